"""Browser tests: Debian's headless Chromium, driven by Playwright's sync API, against the real
application served by real gunicorn workers on the test database (SQLite file, or PostgreSQL
from TEST_DATABASE_URL).

Scopes. The Playwright driver, the browser and the gunicorn server live for this package only
(so no Playwright event loop lingers while the rest of the suite runs). Every test gets its own
known state: the `app` fixture of tests/conftest.py empties every table after the test, the
`portal` fixture below creates a fresh institution and one handler before it and clears the
server's upload folder after it, and every test opens fresh browser contexts (no cookies, no
cache).

Skipping. Without /usr/bin/chromium (or without the playwright / axe packages) the tests skip
with the reason, unless AVERTIZOR_REQUIRE_BROWSER=1 is set (CI sets it): then they fail.
"""
import os
import shutil
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.extensions import db
from tests.support.server import gunicorn_server

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
REQUIRE_BROWSER = os.environ.get("AVERTIZOR_REQUIRE_BROWSER", "").lower() in {"1", "true", "yes"}
HANDLER_NAME = "Ana Popescu"


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not os.path.isfile(CHROMIUM) or not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (install Debian's package: apt-get install chromium)"
    for module in ("playwright.sync_api", "axe_playwright_python.sync_playwright"):
        try:
            __import__(module)
        except ImportError as error:
            return f"Python package for {module} is missing ({error}); pip install -r " \
                   "requirements-dev.txt"
    return None


@pytest.fixture(scope="package")
def browser_required():
    """Skip (or, with AVERTIZOR_REQUIRE_BROWSER=1, fail) when no browser can run."""
    reason = browser_unavailable()
    if reason is None:
        return
    if REQUIRE_BROWSER:
        pytest.fail(f"AVERTIZOR_REQUIRE_BROWSER=1 but the browser tests cannot run: {reason}",
                    pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}. Set AVERTIZOR_REQUIRE_BROWSER=1 to make "
                "this a failure.")


@pytest.fixture(scope="package")
def browser(browser_required):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


class ServerLog:
    """Drains gunicorn's output (a full pipe would block the server) and keeps the tail."""

    def __init__(self, stream, keep: int = 400):
        self.lines: deque[str] = deque(maxlen=keep)
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def tail(self, count: int = 40) -> str:
        return "\n".join(list(self.lines)[-count:])


@dataclass
class LiveServer:
    base_url: str
    uploads: Path
    log: ServerLog


@pytest.fixture(scope="package")
def live_server(browser_required, migrated_database, tmp_path_factory):
    """Two gunicorn workers on the migrated test database. The server reads the institution
    from the database on every request, so it can outlive the per-test rows."""
    uploads = tmp_path_factory.mktemp("browser-uploads")
    with gunicorn_server(migrated_database, str(uploads), workers=2) as (base_url, process):
        yield LiveServer(base_url=base_url, uploads=uploads, log=ServerLog(process.stdout))


@dataclass
class Portal:
    """What a test knows about the portal it drives."""
    base_url: str
    institution_name: str
    handler_name: str
    server: LiveServer = field(repr=False)


@pytest.fixture
def portal(live_server, app, institution, make_handler, request):
    """A fresh institution with one handler, committed before the browser starts. The test's
    app context then stays idle (no open transaction) while gunicorn serves the browser."""
    handler = make_handler(name=HANDLER_NAME)
    known = Portal(base_url=live_server.base_url, institution_name=institution.name,
                   handler_name=handler.name, server=live_server)
    db.session.close()
    yield known
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(f"\n--- gunicorn log (tail) ---\n{live_server.log.tail()}")
    for child in live_server.uploads.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def new_page(browser, portal):
    """Open a page in a fresh context (own cookies, own cache) aimed at the portal:
    new_page(java_script_enabled=False, viewport={...}, locale="ro-RO", ...)."""
    contexts = []

    def open_page(**options):
        options.setdefault("locale", "ro-RO")
        context = browser.new_context(base_url=portal.base_url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()

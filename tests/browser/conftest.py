"""Browser tests: Debian's headless Chromium, driven by Playwright's sync API, against the real
application served by real gunicorn workers on the test database (SQLite file, or PostgreSQL
from TEST_DATABASE_URL).

Scopes. The Playwright driver, the browser and the gunicorn server live for this package only
(so no Playwright event loop lingers while the rest of the suite runs). Every test gets its own
known state: the `app` fixture of tests/conftest.py empties every table after the test, the
`portal` fixture below creates a fresh institution and one handler before it and clears the
server's upload folder after it, and every test opens fresh browser contexts (no cookies, no
cache).

Health. Every test that drives the live server is also checked for what a person would
notice but the test may not look at: any 5xx answer or traceback in gunicorn's log while the
test ran, and any response of the portal (seen by any browser context of `new_page`) without
the security headers of app/__init__.py, fail the test. A test that provokes a server error
on purpose says so with `@pytest.mark.server_errors(<regex of the log line>, ...)`.

Skipping. Without /usr/bin/chromium (or without the playwright / axe packages) the tests skip
with the reason, unless AVERTIZOR_REQUIRE_BROWSER=1 is set (CI sets it): then they fail.
"""
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.extensions import db
from tests.support.server import gunicorn_server
from tests.support.server_log import ServerLog, assert_no_server_errors, server_errors

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


@dataclass
class LiveServer:
    base_url: str
    uploads: Path
    log: ServerLog
    pid: int  # gunicorn's master; its workers are its children

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [int(child) for child in children]


@pytest.fixture(scope="package")
def live_server(browser_required, migrated_database, tmp_path_factory):
    """Two gunicorn workers on the migrated test database. The server reads the institution
    from the database on every request, so it can outlive the per-test rows."""
    uploads = tmp_path_factory.mktemp("browser-uploads")
    with gunicorn_server(migrated_database, str(uploads), workers=2) as (base_url, process):
        yield LiveServer(base_url=base_url, uploads=uploads, log=ServerLog(process.stdout),
                         pid=process.pid)


@dataclass
class Portal:
    """What a test knows about the portal it drives."""
    base_url: str
    institution_name: str
    handler_name: str
    server: LiveServer = field(repr=False)
    handler: SimpleNamespace = field(repr=False, default=None)  # email, password


@pytest.fixture
def portal(live_server, app, institution, make_handler, request):
    """A fresh institution with one handler, committed before the browser starts. The test's
    app context then stays idle (no open transaction) while gunicorn serves the browser."""
    handler = make_handler(name=HANDLER_NAME)
    known = Portal(base_url=live_server.base_url, institution_name=institution.name,
                   handler_name=handler.name, server=live_server,
                   handler=SimpleNamespace(email=handler.email, password=handler.password))
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


# What every portal response must carry (app/__init__.py SECURITY_HEADERS): the header, and a
# piece its value must contain.
REQUIRED_HEADERS = {
    "content-security-policy": ("default-src 'self'", "frame-ancestors 'none'"),
    "x-content-type-options": ("nosniff",),
    "x-frame-options": ("DENY",),
    "referrer-policy": ("no-referrer",),
    "strict-transport-security": ("max-age=",),
    "cross-origin-opener-policy": ("same-origin",),
    "permissions-policy": ("geolocation=()",),
}


def missing_security_headers(headers: dict) -> list[str]:
    """The required headers a response lacks (or has without the expected value)."""
    return [f"{name}: {headers.get(name)!r}" for name, parts in REQUIRED_HEADERS.items()
            if not all(part in (headers.get(name) or "") for part in parts)]


@pytest.fixture
def browser_problems():
    """Responses of the portal that the browsers saw with a 5xx status or without the
    security headers; checked after each test by `server_health`."""
    return []


@pytest.fixture(autouse=True)
def server_health(request, browser_problems):
    """After each test on the live server: no 5xx and no traceback in gunicorn's log since
    the test started, and no portal response without the security headers."""
    if "live_server" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("live_server")
    mark = server.log.mark()
    yield
    marker = request.node.get_closest_marker("server_errors")
    allowed = list(marker.args) if marker else []
    server.log.wait_for_quiet()
    assert_no_server_errors(server.log.since(mark), allowed)
    problems = [line for kind, line in browser_problems
                if kind == "headers" or server_errors([line], allowed)]
    assert not problems, "responses a person would have seen broken:\n  " + \
        "\n  ".join(problems[:20])


def watch_responses(context, base_url: str, problems: list) -> None:
    def check(response) -> None:
        if not response.url.startswith(base_url):
            return
        path = response.url[len(base_url):].split("?")[0] or "/"
        headers = response.headers
        if response.status >= 500:
            # Shaped like an access-log line, so server_errors() and its allowed patterns
            # apply to it as well.
            problems.append(("5xx", f'[browser] "{response.request.method} {path}" '
                                    f"{response.status} "))
        missing = missing_security_headers(headers)
        if missing:
            problems.append(("headers", f"[browser] {response.request.method} {path} "
                                        f"({response.status}) lacks {', '.join(missing)}"))
    context.on("response", check)


@pytest.fixture
def new_page(browser, portal, browser_problems):
    """Open a page in a fresh context (own cookies, own cache) aimed at the portal:
    new_page(java_script_enabled=False, viewport={...}, locale="ro-RO", ...).
    Downloads are accepted (use `page.expect_download()`)."""
    contexts = []

    def open_page(**options):
        options.setdefault("locale", "ro-RO")
        options.setdefault("accept_downloads", True)
        context = browser.new_context(base_url=portal.base_url, **options)
        context.set_default_timeout(10_000)
        watch_responses(context, portal.base_url, browser_problems)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()

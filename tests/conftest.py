"""Fixtures on real parts: a real database (SQLite file or PostgreSQL from TEST_DATABASE_URL),
real Argon2id with cheap parameters, real AES-GCM and X25519, the real forms with CSRF on.

One app per configuration, per session. `create_app` is not cheap (blueprints, Babel, the
limiter), so each distinct `app_config` gets one app, built at its first use and reused. What a
test may change on it is put back after the test: its config, the extension caches it grew
(e.g. the transparency figures), and the rate-limit counters (Flask-Limiter is one object for
every app: it is bound again to the test's app, with empty counters, as a new app would be).

Contexts as in production. The `app` fixture pushes an app context for the fixtures and the
test body (their database session). A request through a test client never runs in it: it
gets its own app context, `g` and database session, torn down at its end, as under gunicorn.
Before each request the test's session commits what the test wrote, so that the request sees
it (and SQLite's write lock is free), and its objects reload afterwards.

Isolation. After each test every table that holds rows is emptied: one query asks which
tables are non-empty, then those are DELETEd, children first, in one transaction. Asking the
database (rather than tracking the test's own INSERTs) covers rows written by gunicorn
workers, CLI subprocesses and other app contexts, which is why the data is committed and not
rolled back: a served test needs its rows visible to other processes. DELETE rather than
TRUNCATE: on a few small tables it is much faster on PostgreSQL (measured on the 22 tables
after a test that wrote an institution: ≈ 10 ms against ≈ 500 ms for one TRUNCATE of all,
which creates new files for every table and index), needs no ACCESS EXCLUSIVE lock, and is
the same code on SQLite. A rollback per test (a transaction around each test) would hide
the rows from gunicorn and from the commands run as subprocesses.
"""
import contextvars
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from flask import current_app, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, exists, literal, select, text, union_all
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app import create_app, rls
from app.crypto.kdf import KdfParams
from app.extensions import db, limiter
from app.models import Role
from app.services.operations import database_role
from app.services.operations.institutions import create_institution
from app.services.staff import members as staff_service
from config import TestingConfig, make_private_folder
from tests.support.forms import CSRF_RE, RECEIPT_RE, csrf_token  # noqa: F401 (for the tests)
from tests.support.staff import TOTP_SECRET_RE, sign_in_client, signed_in_access  # noqa: F401


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Debian's chromium through Playwright")
    config.addinivalue_line("markers", "server: starts real gunicorn workers (tests/support)")
    config.addinivalue_line(
        "markers", "server_errors(*patterns): log lines of server errors this test provokes "
                   "on purpose (regular expressions); any other 5xx or traceback fails it")


SERVER_STARTERS = {"gunicorn_server", "production_server"}


def pytest_collection_modifyitems(config, items):
    """A test that starts gunicorn itself (tests/support/server.py) is a `server` test even if
    its module forgot the marker, so that `make test-fast` leaves it out."""
    for item in items:
        code = getattr(getattr(item, "function", None), "__code__", None)
        if code is not None and SERVER_STARTERS & set(code.co_names) \
                and item.get_closest_marker("server") is None:
            item.add_marker(pytest.mark.server)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    if url in ("sqlite://", "sqlite:///:memory:"):
        # A file, so that tests can read every byte the database holds.
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'avertizor-test.db'}"
    return url


def config_for(database_url: str, upload_folder: str, **overrides):
    return type("TestConfig", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_FOLDER": upload_folder,
        "INSTANCE_DIR": str(Path(upload_folder).parent / "instance"), **overrides})


def application_role(owner_url: str) -> str:
    return f"{make_url(owner_url).database}_app"


def drop_application_role(owner_url: str) -> None:
    """Roles outlive databases (CI makes a database per run): the suite's goes at its end."""
    engine = create_engine(owner_url, poolclass=NullPool)
    role = application_role(owner_url)
    with engine.begin() as connection:
        if connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                              {"r": role}).first() is not None:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))
    engine.dispose()


def application_role_url(owner_url: str) -> str:
    """On PostgreSQL, the URL of the suite's application role `<database>_app`: created if
    missing (roles are per server, so the name follows the database), granted exactly as
    `flask db-role grant` grants production's, owning nothing, hence bound by row-level
    security. TEST_DATABASE_APP_ROLE=0 keeps the owner (the URL given) instead."""
    if not owner_url.startswith("postgresql") or os.environ.get("TEST_DATABASE_APP_ROLE") == "0":
        return owner_url
    owner = make_url(owner_url)
    role = application_role(owner_url)
    engine = create_engine(owner_url, poolclass=NullPool)
    with engine.begin() as connection:
        if connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                              {"r": role}).first() is None:
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        database_role.grant_application_role(connection, role)
    engine.dispose()
    return owner.set(username=role, password=None).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def migrated_database(database_url, tmp_path_factory) -> Iterator[str]:
    """The schema built by the migrations, exactly as production builds it: by the owner (the
    URL given); the URL returned is the one the portal's tests connect with (on PostgreSQL,
    a role that owns nothing, see application_role_url)."""
    app = create_app(config_for(database_url, str(tmp_path_factory.mktemp("uploads"))))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # The accounts' policy reads staff_member, which drop_all drops first.
            with db.engine.begin() as connection:
                connection.execute(text(
                    "DO $$ BEGIN IF to_regclass('staff_account') IS NOT NULL THEN "
                    "DROP POLICY IF EXISTS institution_scope ON staff_account; END IF; END $$"))
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        flask_migrate.upgrade()
        db.engine.dispose()
    url = application_role_url(database_url)
    yield url
    if url != database_url:
        drop_application_role(database_url)


def non_empty_tables(connection) -> set[str]:
    """The tables holding rows, whoever wrote them, in one round trip."""
    probes = [select(literal(table.name)).where(exists().select_from(table))
              for table in db.metadata.sorted_tables]
    return set(connection.execute(union_all(*probes)).scalars())


def empty_all_tables() -> None:
    with rls.scoped(None), db.engine.begin() as connection:
        written = non_empty_tables(connection)
        for table in reversed(db.metadata.sorted_tables):
            if table.name in written:
                connection.execute(table.delete())


@pytest.fixture
def upload_folder(tmp_path) -> str:
    path = tmp_path / "uploads"
    path.mkdir()
    return str(path)


@pytest.fixture
def app_config(request):
    """Settings for one test: `@pytest.mark.parametrize("app_config", [{...}], indirect=True)`."""
    return getattr(request, "param", {})


class IsolatedRequestsClient(FlaskClient):
    """Each request runs as under gunicorn: in a context of its own (its own app context, `g`
    and database session), never in the test's. What the test's session wrote is committed
    first, so the request sees it; the test's objects then reload what the request changed."""

    def open(self, *args, **kwargs):
        if has_app_context() and current_app._get_current_object() is self.application:
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


class EnglishPreferringClient(IsolatedRequestsClient):
    """Test browsers prefer English, so assertions read the msgids; the Romanian default is
    tested by clients that drop the header (tests/test_i18n.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")


class CachedApp:
    """An app built once for one configuration, and what a test may change on it."""

    def __init__(self, database_url: str, owner_url: str, uploads: str, overrides: dict):
        self.app = create_app(config_for(database_url, uploads, **{
            "MIGRATION_DATABASE_URL": owner_url if owner_url != database_url else None,
            **overrides}))
        self.app.test_client_class = EnglishPreferringClient
        self.overrides = overrides
        self.config = dict(self.app.config)
        self.extensions = set(self.app.extensions)

    def start_test(self, upload_folder: str) -> None:
        # The test's own folders, unless its configuration names them (as config_for does).
        folders = {"UPLOAD_FOLDER": upload_folder,
                   "INSTANCE_DIR": str(Path(upload_folder).parent / "instance")}
        self.app.config.update({key: value for key, value in folders.items()
                                if key not in self.overrides})
        try:
            make_private_folder(Path(self.app.config["INSTANCE_DIR"]))
        except OSError:
            pass
        limiter.init_app(self.app)  # bound to this app again, with fresh counters

    def end_test(self) -> None:
        self.app.config.clear()
        self.app.config.update(self.config)
        for name in set(self.app.extensions) - self.extensions:
            del self.app.extensions[name]


@pytest.fixture(scope="session")
def cached_apps(migrated_database, database_url, tmp_path_factory):
    """One app per distinct `app_config`; only the last used keeps database connections."""
    apps: dict[str, CachedApp] = {}
    uploads = str(tmp_path_factory.mktemp("session-uploads"))
    last: list[CachedApp] = []

    def app_for(overrides: dict) -> CachedApp:
        key = repr(sorted(overrides.items()))
        if key not in apps:
            apps[key] = CachedApp(migrated_database, database_url, uploads, overrides)
        cached = apps[key]
        if last and last[0] is not cached:
            with last[0].app.app_context():
                db.engine.dispose()
        last[:] = [cached]
        return cached

    yield app_for
    for cached in apps.values():
        with cached.app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(cached_apps, upload_folder, app_config):
    cached = cached_apps(app_config)
    cached.start_test(upload_folder)
    try:
        with cached.app.app_context():
            yield cached.app
            db.session.remove()
            empty_all_tables()
    finally:
        cached.end_test()


@pytest.fixture
def client(app):
    """A browser that prefers English, so assertions read the msgids; tests of the Romanian
    default make their own client."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def kdf_params(app) -> KdfParams:
    return KdfParams.from_config(app.config)


@pytest.fixture
def institution(app):
    """The institution with its recovery code (kept here only because tests need it)."""
    institution, code = create_institution("Comuna Bălțați")
    db.session.commit()
    institution.recovery_code = code
    return institution


@pytest.fixture
def make_handler(app, institution, kdf_params):
    def make(name="Ana Popescu", email=None, roles=(Role.HANDLER,), password=None):
        password = password or secrets.token_urlsafe(16)
        member = staff_service.add_staff(
            institution, email=email or f"{secrets.token_hex(4)}@baltati.example", name=name,
            roles=list(roles), password=password, kdf_params=kdf_params)
        db.session.commit()
        member.password = password
        return member
    return make


@pytest.fixture
def admin(make_handler):
    """The institution's administrator (a staff member with the admin role only)."""
    return make_handler("Maria Admin", email="admin@baltati.example", roles=(Role.ADMIN,))


@pytest.fixture
def admin_browser(admin, sign_in):
    """A client signed in as the administrator, through the real password and TOTP forms."""
    return sign_in(admin)


def report_fields(**overrides) -> dict:
    fields = {
        "category": "bribery",
        "what_happened": "The clerk asked for money to issue a building permit.",
        "when_where": "",
        "persons_involved": "",
        "how_known": "",
        "work_context": "no",
        "identity_choice": "anonymous",
        "name": "",
        "email": "",
        "phone": "",
        "consent": "y",
        "website": "",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def submit(client, institution):
    """Post the real report form (CSRF included); returns (response, receipt or None)."""
    def post(files=None, **overrides):
        data = report_fields(**overrides)
        data["csrf_token"] = csrf_token(client, "/report")
        if files:
            data["evidence"] = files
        response = client.post("/report", data=data, content_type="multipart/form-data")
        match = RECEIPT_RE.search(response.get_data(as_text=True))
        return response, (match.group(1).replace(" ", "") if match else None)
    return post


@pytest.fixture
def follow_up(client):
    """Log in at /follow-up with a receipt; returns the response (redirect on success)."""
    def login(receipt: str):
        token = csrf_token(client, "/follow-up")
        return client.post("/follow-up", data={"receipt": receipt, "csrf_token": token})
    return login


@pytest.fixture
def sign_in(app):
    """A new browser for a staff member, signed in through the real forms: password, then a
    TOTP code (enrolling at the first sign-in). The TOTP secret is kept on the member."""
    def login(member, password=None):
        staff_client = sign_in_client(app.test_client(), member, password)
        return staff_client
    return login


# --- service-level fixtures: a handler's access and an opened case ---------------------------

@pytest.fixture
def staff_access(institution, make_handler, kdf_params):
    """A handler's StaffAccess exactly as a request gets it: password → Argon2id → private
    key → split session row → resumed with the cookie. The handler exists before any report
    a test submits, so every report is sealed to them; `staff_access.member.password` is kept
    for signing in through the forms too."""
    handler = make_handler("Ana Popescu")
    access = signed_in_access(institution, handler, kdf_params)
    access.member.password = handler.password
    return access


@pytest.fixture
def opened_case(staff_access, submit):
    """The OpenCase (services/access/opened.py) of a report just sent through the real form,
    opened by `staff_access` as one back-office request would."""
    from sqlalchemy import select

    from app.models import Case
    from app.services.access.opened import open_case

    response, _ = submit()
    assert response.status_code == 200
    case = db.session.scalar(select(Case).order_by(Case.id.desc()))
    return open_case(staff_access, case.id)

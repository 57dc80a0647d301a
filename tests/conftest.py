"""Fixtures on real parts: a real database (SQLite file or PostgreSQL from TEST_DATABASE_URL),
real Argon2id with cheap parameters, real AES-GCM and X25519, the real forms with CSRF on."""
import os
import re
import secrets
from pathlib import Path

import flask_migrate
import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.crypto.kdf import KdfParams
from app.extensions import db
from app.models import Role
from app.services.operations.institutions import create_institution
from app.services.staff import members as staff_service
from config import TestingConfig

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RECEIPT_RE = re.compile(r'id="receipt-code">([0-9 ]+)<')


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


@pytest.fixture(scope="session")
def migrated_database(database_url, tmp_path_factory) -> str:
    """The schema built by the migrations, exactly as production builds it."""
    app = create_app(config_for(database_url, str(tmp_path_factory.mktemp("uploads"))))
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        flask_migrate.upgrade()
        db.engine.dispose()
    return database_url


def empty_all_tables() -> None:
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
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


def _fresh_g_per_request() -> None:
    """Tests keep one app context open (to share the database session with the test), so
    Flask's `g` would outlive a request, which never happens in production: start each
    request with an empty `g` (CSRF token, locale and staff session caches live there)."""
    for name in list(vars(g)):
        delattr(g, name)


class EnglishPreferringClient(FlaskClient):
    """Test browsers prefer English, so assertions read the msgids; the Romanian default is
    tested by clients that drop the header (tests/test_i18n.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")


@pytest.fixture
def app(migrated_database, upload_folder, app_config):
    app = create_app(config_for(migrated_database, upload_folder, **app_config))
    app.test_client_class = EnglishPreferringClient
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g_per_request)
    with app.app_context():
        yield app
        db.session.remove()
        empty_all_tables()
        db.engine.dispose()


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


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


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


TOTP_SECRET_RE = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')


@pytest.fixture
def sign_in(app):
    """A new browser for a staff member, signed in through the real forms: password, then a
    TOTP code (enrolling at the first sign-in). The TOTP secret is kept on the member."""
    import base64
    import time

    from app.services.staff import totp

    def login(member, password=None):
        staff_client = app.test_client()
        staff_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        token = csrf_token(staff_client, "/staff/login")
        response = staff_client.post("/staff/login", data={
            "email": member.email, "password": password or member.password,
            "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        page = staff_client.get("/staff/login/code").get_data(as_text=True)
        match = TOTP_SECRET_RE.search(page)
        if match:
            text = match.group(1).replace(" ", "")
            member.totp_secret_raw = base64.b32decode(text + "=" * (-len(text) % 8))
        # A used code is refused (replay): a second sign-in takes the next 30-second step, as
        # a person waiting for the next code would. (A third within 30 s would be refused.)
        member.sign_ins = getattr(member, "sign_ins", 0) + 1
        code = totp.code_at(member.totp_secret_raw, time.time() + 30 * (member.sign_ins - 1))
        token = CSRF_RE.search(page).group(1)
        response = staff_client.post("/staff/login/code", data={"code": code,
                                                                "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        return staff_client
    return login


# --- service-level fixtures: a handler's access and an opened case ---------------------------

@pytest.fixture
def staff_access(institution, make_handler, kdf_params):
    """A handler's StaffAccess exactly as a request gets it: password → Argon2id → private
    key → split session row → resumed with the cookie. The handler exists before any report
    a test submits, so every report is sealed to them; `staff_access.member.password` is kept
    for signing in through the forms too."""
    from app.services.staff import sign_in as staff_auth
    from app.services.transaction import unit_of_work

    handler = make_handler("Ana Popescu")
    with unit_of_work():
        found, private_key = staff_auth.check_password(institution, handler.email,
                                                       handler.password, kdf_params)
        cookie = staff_auth.open_session(found, private_key)
    access = staff_auth.resume(cookie)
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

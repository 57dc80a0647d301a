"""A staff member signs in through the real steps: password, then a TOTP code (enrolling at
the first sign-in; the secret the page shows is kept on the member as `totp_secret_raw`).

A used code is refused (replay): each further sign-in of the same member takes the next
30-second step, as a person waiting for the next code would (`member.sign_ins` counts them).
Four ways in: a Flask test client, a Playwright page, an HTTP client against gunicorn, and
the service layer itself.
"""
import base64
import re
import time

from app.services.staff import sign_in as staff_auth
from app.services.staff import totp
from app.services.transaction import unit_of_work
from tests.support.forms import CSRF_RE, csrf_token

TOTP_SECRET_RE = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
SUBMIT = 'main form button[type="submit"]'


def _keep_secret(member, shown: str) -> None:
    text = shown.replace(" ", "")
    member.totp_secret_raw = base64.b32decode(text + "=" * (-len(text) % 8))


def _next_code(member, step: int | None) -> str:
    """The code of the member's next unused time step, or of `step` steps ahead."""
    if step is None:
        member.sign_ins = getattr(member, "sign_ins", 0) + 1
        step = member.sign_ins - 1
    return totp.code_at(member.totp_secret_raw, time.time() + 30 * step)


def sign_in_client(client, member, password: str | None = None, *, step: int | None = None):
    """Sign `member` in on a Flask test client; returns the client."""
    token = csrf_token(client, "/staff/login")
    response = client.post("/staff/login", data={
        "email": member.email, "password": password or member.password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/staff/login/code").get_data(as_text=True)
    shown = TOTP_SECRET_RE.search(page)
    if shown:
        _keep_secret(member, shown.group(1))
    response = client.post("/staff/login/code", data={
        "code": _next_code(member, step), "csrf_token": CSRF_RE.search(page).group(1)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def sign_in_page(page, member, *, step: int | None = None,
                 home: str = r"/staff/(cases)?(\?.*)?$") -> None:
    """Sign `member` in in a Playwright page aimed at the portal, up to the staff home (the
    inbox; a custodian's home is the identity requests)."""
    page.goto("/staff/login")
    page.fill("#email", member.email)
    page.fill("#password", member.password)
    page.click(SUBMIT)
    page.wait_for_url(re.compile(r"/staff/login/code"))
    if page.locator("#totp-secret").count():
        _keep_secret(member, page.locator("#totp-secret").inner_text())
    page.fill("#code", _next_code(member, step))
    page.click(SUBMIT)
    page.wait_for_url(re.compile(home))


def sign_in_http(client, member, *, step: int | None = None):
    """Sign `member` in on a tests/support/http.py HttpClient (real gunicorn); returns it."""
    client.post_urlencoded("/staff/login", {
        "email": member.email, "password": member.password,
        "csrf_token": client.csrf_token("/staff/login")})
    page = client.get("/staff/login/code").body
    shown = TOTP_SECRET_RE.search(page)
    if shown:
        _keep_secret(member, shown.group(1))
    answer = client.post_urlencoded("/staff/login/code", {
        "code": _next_code(member, step), "csrf_token": CSRF_RE.search(page).group(1)})
    assert answer.status == 200 and "/staff/login" not in answer.url, answer.body[:2000]
    return client


def signed_in_access(institution, member, kdf_params):
    """A StaffAccess exactly as a request gets it: password, session row, cookie, resume."""
    with unit_of_work():
        found, private_key = staff_auth.check_password(member.email, member.password,
                                                       kdf_params, prefer=institution)
        cookie = staff_auth.open_session(found, private_key)
    return staff_auth.resume(cookie)


def make_operator(app, email: str = "operator@portal.example", name: str = "Olga Operator"):
    """A platform operator made as an operator makes one: `flask platform add-operator`,
    password on stdin. Returns the account, its password kept on it as `password`."""
    return _platform_account(app, ["add-operator", email, "--name", name], email)


def make_observer(app, scope: str = "*", email: str = "observer@judet.example",
                  name: str = "Ion Observator"):
    """An observer of `scope` ("*", "county:<name>", "ids:1,2"), made with
    `flask platform add-observer`; its password kept on it as `password`."""
    return _platform_account(app, ["add-observer", email, "--name", name, "--scope", scope],
                             email)


def _platform_account(app, arguments: list[str], email: str):
    import secrets

    from sqlalchemy import select

    from app.extensions import db
    from app.models import StaffAccount

    password = secrets.token_urlsafe(16)
    result = app.test_cli_runner().invoke(args=["platform", *arguments], input=password + "\n")
    assert result.exit_code == 0, result.output
    account = db.session.scalar(select(StaffAccount).where(StaffAccount.email == email))
    account.password = password
    return account

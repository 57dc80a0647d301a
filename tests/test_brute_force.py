"""Guessing receipts and staff credentials is throttled before anything is checked.

With the limiter on and the default limits of config.py (receipt login 5 per minute and 30 per
hour, staff sign-in 10 per minute and 60 per hour, per client address), an attacker hammering
/follow-up, /staff/login or /staff/login/code gets 429 with a page a person understands once
the budget is spent, and no attempt beyond it reaches the credential check: spies count the
calls into the services (the view's check, and the Argon2id or TOTP work behind it).

Independently of the limiter, a staff account locks after 5 wrong factors (passwords and codes
together), even when each guess comes from another address, and every refusal reads the same
whichever factor was wrong.

The limiter's clock is moved forward (limits' memory storage) instead of waiting.
"""
import http.cookiejar
import re
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

import limits.storage.memory
import pytest
from sqlalchemy import func, select

from app.crypto import kdf
from app.crypto.kdf import KdfParams
from app.extensions import db
from app.models import AuditEntry, ReporterSession, Role, StaffMember, StaffSession
from app.services import followup, receipts, staff_auth, totp
from app.services import staff as staff_service
from tests.conftest import CSRF_RE, csrf_token
from tests.support.server import gunicorn_server

LIMITED = pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}], indirect=True)
TOO_MANY = {"en": ("Too many attempts", "For everyone's safety, the number of attempts is limited."),
            "ro": ("Prea multe încercări", "numărul de încercări este limitat")}
GENERIC = str(staff_auth.GENERIC_REFUSAL)
WRONG_RECEIPT = "1111 2222 3333 4444"


class Clock:
    """time.time() for the limiter's memory storage, movable by the test."""

    def __init__(self):
        import time
        self._time, self.offset = time, 0.0

    def time(self):
        return self._time.time() + self.offset

    def advance(self, seconds: float):
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(limits.storage.memory, "time", fake)
    return fake


@pytest.fixture
def calls(monkeypatch) -> Counter:
    """How often each credential check ran (the views call these through their modules)."""
    counted = Counter()

    def spy(module, name, label):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            counted[label] += 1
            return original(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)

    spy(followup, "log_in", "receipt login")
    spy(receipts, "find", "receipt lookup")
    spy(kdf, "derive", "argon2 receipt")
    spy(staff_auth, "check_password", "password check")
    spy(staff_auth, "unlock_private_key", "argon2 password")
    spy(staff_auth, "_dummy_unlock", "argon2 dummy")
    spy(staff_auth, "complete_second_factor", "code check")
    spy(totp, "accepted_step", "totp")
    return counted


def browser_from(app, address: str):
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def page_says(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def assert_throttled(response):
    assert response.status_code == 429
    text = page_says(response)
    assert any(all(part in text for part in parts) for parts in TOO_MANY.values()), text[:500]
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def receipt_attempt(client, receipt: str = WRONG_RECEIPT, **kwargs):
    token = csrf_token(client, "/follow-up")
    return client.post("/follow-up", data={"receipt": receipt, "csrf_token": token}, **kwargs)


def staff_attempt(client, email: str, password: str, **kwargs):
    token = csrf_token(client, "/staff/login")
    return client.post("/staff/login", data={"email": email, "password": password,
                                             "csrf_token": token}, **kwargs)


def sessions(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def receipt(institution, make_handler, submit) -> str:
    make_handler()
    response, code = submit()
    assert response.status_code == 200 and code
    return code


# --- receipts -----------------------------------------------------------------------------------

@LIMITED
def test_receipt_guesses_beyond_five_a_minute_never_reach_the_check(client, receipt, calls,
                                                                    clock):
    statuses = [receipt_attempt(client).status_code for _ in range(12)]
    assert statuses == [400] * 5 + [429] * 7
    assert calls["receipt login"] == calls["receipt lookup"] == 5
    assert calls["argon2 receipt"] == 5  # one Argon2id run per checked guess, none after
    # Even the right receipt is not looked at while the budget is spent.
    response = receipt_attempt(client, receipt)
    assert_throttled(response)
    assert calls["receipt login"] == 5 and sessions(ReporterSession) == 0
    assert receipt not in response.get_data(as_text=True)
    # A minute later the budget is back, and the right receipt opens the case.
    clock.advance(61)
    assert receipt_attempt(client, receipt).status_code == 302
    assert calls["receipt login"] == 6 and sessions(ReporterSession) == 1


@LIMITED
def test_receipt_guesses_are_capped_at_thirty_an_hour(client, receipt, calls, clock):
    statuses = []
    for _minute in range(8):
        statuses += [receipt_attempt(client).status_code for _ in range(6)]
        clock.advance(61)
    assert statuses.count(400) == 30 and calls["receipt login"] == 30
    assert statuses[:6] == [400] * 5 + [429]
    assert statuses[-12:] == [429] * 12  # minutes 7 and 8: the hourly budget is spent
    clock.advance(3600)
    assert receipt_attempt(client, receipt).status_code == 302


@LIMITED
def test_dressing_up_the_request_does_not_reset_the_budget(client, receipt, calls):
    for _ in range(5):
        assert receipt_attempt(client).status_code == 400
    variants = [
        {"headers": {"X-Forwarded-For": "198.51.100.7"}},  # no proxy is trusted by default
        {"headers": {"X-Real-IP": "198.51.100.8", "Forwarded": "for=198.51.100.9"}},
        {"headers": {"User-Agent": "Other/1.0", "Accept-Language": "ro"}},
        {"query_string": {"lang": "ro"}},
    ]
    for variant in variants:
        query = variant.pop("query_string", None)
        token = csrf_token(client, "/follow-up")
        url = "/follow-up" + (f"?lang={query['lang']}" if query else "")
        response = client.post(url, data={"receipt": WRONG_RECEIPT, "csrf_token": token},
                               **variant)
        assert_throttled(response)
    assert client.post("/follow-up/", data={}).status_code in (404, 405, 308)
    assert calls["receipt login"] == 5


@LIMITED
def test_the_budget_is_per_client_address_and_the_store_never_sees_it(app, receipt, calls):
    """What the figures of bench/brute_force.py are per: one address. (An attacker with many
    addresses multiplies them; the receipt space of 10^16 is what stays out of reach.)"""
    from app.extensions import limiter
    for address in ("203.0.113.1", "203.0.113.2"):
        browser = browser_from(app, address)
        statuses = [receipt_attempt(browser).status_code for _ in range(6)]
        assert statuses == [400] * 5 + [429]
    assert calls["receipt login"] == 10
    keys = " ".join(limiter.storage.storage.keys())
    assert "203.0.113" not in keys


@LIMITED
@pytest.mark.xfail(strict=True, reason=(
    "BUG: app/ratelimit.py anonymous_client_key hashes the full client address, so an IPv6 "
    "client, who usually holds a whole /64 (2^64 addresses), gets a fresh budget per address "
    "and the receipt and sign-in limits do not hold. Fix: key IPv6 clients on their /64, "
    "e.g. str(ipaddress.ip_network(f'{address}/64', strict=False)) when ':' is in the "
    "address (IPv4 stays per address)."))
def test_addresses_of_one_ipv6_network_share_one_budget(app, receipt, calls):
    first = browser_from(app, "2001:db8:1:2::1")
    assert [receipt_attempt(first).status_code for _ in range(6)] == [400] * 5 + [429]
    neighbour = browser_from(app, "2001:db8:1:2::2")  # same /64: same household or server
    assert_throttled(receipt_attempt(neighbour))
    assert calls["receipt login"] == 5


# --- staff sign-in ----------------------------------------------------------------------------

@LIMITED
def test_password_guesses_beyond_ten_a_minute_never_reach_the_check(app, client, make_handler,
                                                                    calls, clock):
    member = make_handler()
    guesses = [("nobody@baltati.example", f"guess {n}") for n in range(8)] + \
              [(f"user{n}@baltati.example", "password") for n in range(7)]
    statuses = [staff_attempt(client, email, password).status_code
                for email, password in guesses]
    assert statuses == [400] * 10 + [429] * 5
    assert calls["password check"] == 10 and calls["argon2 dummy"] == 10
    # The budget is the address's, whichever account is tried: the real one is not checked.
    response = staff_attempt(client, member.email, member.password)
    assert_throttled(response)
    assert calls["password check"] == 10 and calls["argon2 password"] == 0
    assert sessions(StaffSession) == 0
    clock.advance(61)
    assert staff_attempt(client, member.email, member.password).status_code == 302


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "RATELIMIT_STAFF_LOGIN": "3 per minute"}],
                         indirect=True)
def test_failed_logins_stop_increasing_once_the_limit_is_reached(client, make_handler, calls):
    """A limit below the lockout threshold, to see the counter of the account itself stop."""
    member = make_handler()
    counts = []
    for n in range(6):
        staff_attempt(client, member.email, f"wrong {n}")
        db.session.refresh(member)
        counts.append(member.failed_logins)
    assert counts == [1, 2, 3, 3, 3, 3]
    assert calls["argon2 password"] == 3 and member.locked_until is None


@LIMITED
def test_code_guesses_beyond_ten_a_minute_never_reach_the_check(app, make_handler, calls):
    member = make_handler()
    browser = app.test_client()
    assert staff_attempt(browser, member.email, member.password).status_code == 302
    token = CSRF_RE.search(browser.get("/staff/login/code").get_data(as_text=True)).group(1)
    statuses = [browser.post("/staff/login/code", data={"code": f"{n:06d}",
                                                        "csrf_token": token}).status_code
                for n in range(14)]
    assert statuses == [400] * 10 + [429] * 4
    assert calls["code check"] == 10
    assert calls["totp"] == 5  # the account locked at the fifth wrong code
    db.session.refresh(member)
    assert member.locked_until is not None
    stages = set(db.session.scalars(select(StaffSession.stage)))
    assert stages == {"pending"} or "active" not in stages


# --- lockout, whatever the limiter says --------------------------------------------------------

def refusal(response) -> str:
    """The refusal as the person reads it, and whether a field was singled out."""
    page = response.get_data(as_text=True)
    alerts = re.findall(r'<p class="alert" role="alert">([^<]*)</p>', page)
    assert 'class="error"' not in page and 'aria-invalid' not in page, \
        "a refusal must not say which field was wrong"
    return " ".join(alerts)


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}, {}], indirect=True,
                         ids=["limiter on", "limiter off"])
def test_five_wrong_passwords_from_five_addresses_lock_the_account(app, make_handler, calls):
    member = make_handler()
    messages = set()
    for n in range(5):
        browser = browser_from(app, f"192.0.2.{n + 1}")
        response = staff_attempt(browser, member.email, f"wrong password {n}")
        assert response.status_code == 400
        messages.add(refusal(response))
    browser = browser_from(app, "192.0.2.99")
    response = staff_attempt(browser, member.email, member.password)
    assert response.status_code == 400, "the right password opens a locked account"
    messages.add(refusal(response))
    assert messages == {GENERIC}
    assert calls["argon2 password"] == 5  # the locked account's password is not even tried
    assert sessions(StaffSession) == 0
    db.session.refresh(member)
    assert member.locked_until is not None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "account_locked")) == 1
    # After the lockout period, the right password works again.
    member.locked_until = member.locked_until - staff_auth.LOCKOUT
    db.session.commit()
    assert staff_attempt(browser, member.email, member.password).status_code == 302


@LIMITED
def test_wrong_passwords_and_wrong_codes_count_together(app, make_handler):
    member = make_handler()
    for n in range(3):
        browser = browser_from(app, f"192.0.2.{n + 1}")
        assert staff_attempt(browser, member.email, f"wrong {n}").status_code == 400
    browser = browser_from(app, "192.0.2.50")
    assert staff_attempt(browser, member.email, member.password).status_code == 302
    token = CSRF_RE.search(browser.get("/staff/login/code").get_data(as_text=True)).group(1)
    for code in ("000000", "999999"):
        response = browser.post("/staff/login/code", data={"code": code, "csrf_token": token})
        assert response.status_code == 400
    db.session.refresh(member)
    assert member.locked_until is not None  # 3 passwords + 2 codes
    browser = browser_from(app, "192.0.2.60")
    assert staff_attempt(browser, member.email, member.password).status_code == 400


@LIMITED
def test_every_refusal_reads_the_same_whichever_factor_was_wrong(app, make_handler):
    member, other = make_handler(), make_handler()
    seen = {}

    def fresh(n):
        return browser_from(app, f"198.51.100.{n}")

    seen["unknown e-mail"] = staff_attempt(fresh(1), "nobody@baltati.example", "x" * 12)
    seen["wrong password"] = staff_attempt(fresh(2), member.email, "not the password")
    seen["deactivated"] = None
    browser = fresh(3)
    assert staff_attempt(browser, member.email, member.password).status_code == 302
    token = CSRF_RE.search(browser.get("/staff/login/code").get_data(as_text=True)).group(1)
    seen["wrong code"] = browser.post("/staff/login/code", data={"code": "000000",
                                                                 "csrf_token": token})
    for n in range(5):
        staff_attempt(fresh(10 + n), other.email, f"wrong {n}")
    seen["locked, right password"] = staff_attempt(fresh(20), other.email, other.password)
    other_member = db.session.get(StaffMember, other.id)
    other_member.locked_until = None
    other_member.active = False
    db.session.commit()
    seen["deactivated"] = staff_attempt(fresh(21), other.email, other.password)
    texts = {name: refusal(response) for name, response in seen.items()}
    assert all(r.status_code == 400 for r in seen.values())
    assert set(texts.values()) == {GENERIC}, texts
    # Nothing in the page differs but the form's token and the e-mail typed (echoed back).
    bodies = {name: re.sub(r'(name="email" required type="email" value=)"[^"]*"', r"\1",
                           CSRF_RE.sub("", r.get_data(as_text=True)))
              for name, r in seen.items() if name != "wrong code"}
    assert len(set(bodies.values())) == 1, {k: len(v) for k, v in bodies.items()}


# --- parallel guesses through real workers -----------------------------------------------------

ROUNDS, PARALLEL = 4, 4


def _post_wrong_password(base_url: str, address: str, email: str, barrier, statuses: list):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    headers = {"X-Forwarded-For": address}
    with opener.open(urllib.request.Request(base_url + "/staff/login", headers=headers),
                     timeout=60) as response:
        token = CSRF_RE.search(response.read().decode()).group(1)
    body = urllib.parse.urlencode({"email": email, "password": secrets.token_urlsafe(12),
                                   "csrf_token": token}).encode()
    barrier.wait()
    try:
        with opener.open(urllib.request.Request(base_url + "/staff/login", data=body,
                                                headers=headers), timeout=60) as response:
            statuses.append(response.status)
    except urllib.error.HTTPError as error:
        statuses.append(error.code)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "BUG: app/services/staff_auth.py check_password counts a failure (now atomically in SQL) "
    "only after the Argon2id check, so guesses that arrive together are all checked before "
    "the account locks. Fix: reserve the attempt first (UPDATE ... SET failed_logins = "
    "failed_logins + 1 WHERE not locked RETURNING), check the password, reset on success."))
def test_parallel_wrong_passwords_cannot_outrun_the_lockout(app, institution, upload_folder):
    """Guesses released together through gunicorn, each from its own address (no limiter
    bucket is ever full), with production-strength Argon2id so that they overlap as they
    would in production. At most 5 passwords may be checked before the account locks."""
    member = staff_service.add_staff(
        institution, email="target@baltati.example", name="Target", roles=[Role.HANDLER],
        password="the real password 123", kdf_params=KdfParams(65536, 2, 1))
    db.session.commit()
    statuses: list[int] = []
    log: list[str] = []
    with gunicorn_server(app.config["SQLALCHEMY_DATABASE_URI"], upload_folder,
                         workers=PARALLEL, extra_env={"RATELIMIT_ENABLED": "1",
                                                      "PROXY_FIX_HOPS": "1"}) as (url, process):
        threading.Thread(target=lambda: log.extend(process.stdout), daemon=True).start()
        for round_ in range(ROUNDS):
            barrier = threading.Barrier(PARALLEL)
            threads = [threading.Thread(target=_post_wrong_password, args=(
                url, f"203.0.113.{round_ * PARALLEL + n + 1}", member.email, barrier,
                statuses)) for n in range(PARALLEL)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert sorted(set(statuses)) == [400], (statuses, log[-20:])
    db.session.rollback()
    checked = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "sign_in_failed", AuditEntry.actor_staff_id == member.id))
    db.session.refresh(member)
    assert member.locked_until is not None, f"{checked} wrong passwords checked, not locked"
    assert checked <= staff_auth.MAX_FAILURES, f"{checked} wrong passwords were checked"

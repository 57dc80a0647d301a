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
import re
import secrets
import threading
from collections import Counter

import limits.storage.memory
import pytest
from sqlalchemy import func, select

from app.crypto import kdf
from app.crypto.kdf import KdfParams
from app.extensions import db
from app.models import AuditEntry, ReporterSession, Role, StaffMember, StaffSession
from app.services.intake import followup, receipts
from app.services.staff import members as staff_service
from app.services.staff import sign_in as staff_auth
from app.services.staff import totp
from tests.conftest import CSRF_RE, csrf_token
from tests.support.http import HttpClient
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
def test_addresses_of_one_ipv6_network_share_one_budget(app, receipt, calls):
    """An IPv6 client usually holds a whole /64 (2^64 addresses): keyed on the /64."""
    first = browser_from(app, "2001:db8:1:2::1")
    assert [receipt_attempt(first).status_code for _ in range(6)] == [400] * 5 + [429]
    neighbour = browser_from(app, "2001:db8:1:2::2")  # same /64: same household or server
    assert_throttled(receipt_attempt(neighbour))
    assert calls["receipt login"] == 5
    other_network = browser_from(app, "2001:db8:1:3::1")
    assert receipt_attempt(other_network).status_code == 400
    assert calls["receipt login"] == 6


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


def failures_checked(member) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "sign_in_failed", AuditEntry.actor_staff_id == member.id))


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "RATELIMIT_STAFF_LOGIN": "3 per minute"}],
                         indirect=True)
def test_failed_logins_stop_increasing_once_the_limit_is_reached(client, make_handler, calls):
    """A limit below the lockout threshold, to see the failures of the account itself stop."""
    member = make_handler()
    counts = []
    for n in range(6):
        staff_attempt(client, member.email, f"wrong {n}")
        counts.append(failures_checked(member))
    assert counts == [1, 2, 3, 3, 3, 3]
    db.session.refresh(member)
    assert calls["argon2 password"] == 3 and member.account.locked_until is None


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
    assert member.account.locked_until is not None
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


def complete_sign_in(browser, member, ahead: int = 0) -> int:
    """The code step with the member's TOTP code (`ahead` steps later, within the window:
    a code is accepted once); the status of the POST."""
    token = CSRF_RE.search(browser.get("/staff/login/code").get_data(as_text=True)).group(1)
    db.session.rollback()
    fresh = db.session.get(StaffMember, member.id)
    secret = staff_auth.enrolment_secret(fresh, browser.application.config["SECRET_KEY"])
    db.session.commit()
    import time
    code = totp.code_at(secret, time.time() + ahead * totp.STEP_SECONDS)
    return browser.post("/staff/login/code", data={"code": code, "csrf_token": token}
                        ).status_code


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}, {}], indirect=True,
                         ids=["limiter on", "limiter off"])
def test_five_wrong_passwords_lock_out_that_address_not_the_handler(app, make_handler, calls):
    """The denial of service of a commune with one handler: an outsider sending wrong
    passwords locks only their own address out of the account; the handler, from their own
    address, still signs in."""
    member = make_handler()
    attacker = browser_from(app, "192.0.2.66")
    messages = set()
    for n in range(5):
        response = staff_attempt(attacker, member.email, f"wrong password {n}")
        assert response.status_code == 400
        messages.add(refusal(response))
    response = staff_attempt(attacker, member.email, member.password)
    assert response.status_code == 400, "the right password opens a locked-out address"
    messages.add(refusal(response))
    assert messages == {GENERIC}
    assert calls["argon2 password"] == 5  # the locked address's password is not even tried
    assert calls["argon2 dummy"] == 1  # but the same Argon2id time is spent
    assert sessions(StaffSession) == 0
    db.session.refresh(member)
    assert member.account.locked_until is not None  # the administrators see that a lock is in force
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "account_locked")) == 1
    # The handler, from another address, signs in: password, then code.
    handler = browser_from(app, "198.51.100.20")
    assert staff_attempt(handler, member.email, member.password).status_code == 302
    assert complete_sign_in(handler, member) == 302
    assert handler.get("/staff/cases").status_code == 200
    # The attacker's address stays locked out, also after the handler's sign-in.
    assert staff_attempt(attacker, member.email, member.password).status_code == 400
    assert calls["argon2 password"] == 6
    # After the lockout period, the right password works again from there too.
    db.session.refresh(member)
    member.account.locked_until = member.account.locked_until - staff_auth.LOCKOUT
    db.session.commit()
    assert staff_attempt(attacker, member.email, member.password).status_code == 302


def test_wrong_passwords_from_many_addresses_each_count_for_their_own(app, make_handler):
    member = make_handler()
    for n in range(8):
        assert staff_attempt(browser_from(app, f"192.0.2.{n + 1}"), member.email,
                             f"wrong {n}").status_code == 400
    assert failures_checked(member) == 8
    db.session.refresh(member)
    assert member.account.locked_until is None
    assert staff_attempt(browser_from(app, "192.0.2.99"), member.email,
                         member.password).status_code == 302


def test_guessing_from_many_addresses_stops_at_a_ceiling_the_known_device_passes(
        app, make_handler, calls):
    """Against an attacker with many addresses: past GLOBAL_MAX_FAILURES wrong passwords from
    all of them together, passwords are checked only from a device the handler completed a
    sign-in on before; that device still signs in, from any address."""
    member = make_handler()
    device = browser_from(app, "198.51.100.30")
    assert staff_attempt(device, member.email, member.password).status_code == 302
    assert complete_sign_in(device, member) == 302
    device.post("/staff/logout", data={"csrf_token": csrf_token(device, "/staff/password")})
    ceiling = staff_auth.GLOBAL_MAX_FAILURES
    for n in range(ceiling):
        assert staff_attempt(browser_from(app, f"10.0.{n // 250}.{n % 250 + 1}"),
                             member.email, f"wrong {n}").status_code == 400
    assert failures_checked(member) == ceiling
    checked = calls["argon2 password"]
    # A new address, even with the right password, is no longer checked...
    response = staff_attempt(browser_from(app, "10.9.9.9"), member.email, member.password)
    assert response.status_code == 400 and refusal(response) == GENERIC
    assert calls["argon2 password"] == checked and calls["argon2 dummy"] >= 1
    # ...but the handler's known device is, from wherever it is now.
    device.environ_base["REMOTE_ADDR"] = "10.9.9.10"
    assert staff_attempt(device, member.email, member.password).status_code == 302
    assert complete_sign_in(device, member, ahead=1) == 302


@LIMITED
def test_wrong_passwords_and_wrong_codes_count_together(app, make_handler):
    member = make_handler()
    browser = browser_from(app, "192.0.2.50")
    for n in range(3):
        assert staff_attempt(browser, member.email, f"wrong {n}").status_code == 400
    assert staff_attempt(browser, member.email, member.password).status_code == 302
    token = CSRF_RE.search(browser.get("/staff/login/code").get_data(as_text=True)).group(1)
    for code in ("000000", "999999"):
        response = browser.post("/staff/login/code", data={"code": code, "csrf_token": token})
        assert response.status_code == 400
    db.session.refresh(member)
    assert member.account.locked_until is not None  # 3 passwords + 2 codes from one address
    again = browser_from(app, "192.0.2.50")
    assert staff_attempt(again, member.email, member.password).status_code == 400
    elsewhere = browser_from(app, "192.0.2.60")
    assert staff_attempt(elsewhere, member.email, member.password).status_code == 302


@LIMITED
def test_five_wrong_codes_lock_the_account_from_everywhere(app, make_handler):
    """Only someone who knows the password reaches the code step: wrong codes there lock the
    account itself, whichever address the next attempt comes from."""
    member = make_handler()
    browser = browser_from(app, "192.0.2.70")
    assert staff_attempt(browser, member.email, member.password).status_code == 302
    token = CSRF_RE.search(browser.get("/staff/login/code").get_data(as_text=True)).group(1)
    for n in range(5):
        response = browser.post("/staff/login/code", data={"code": f"{n:06d}",
                                                           "csrf_token": token})
        assert response.status_code == 400
    db.session.refresh(member)
    assert member.account.locked_until is not None
    elsewhere = browser_from(app, "198.51.100.80")
    response = staff_attempt(elsewhere, member.email, member.password)
    assert response.status_code == 400 and refusal(response) == GENERIC


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
    attacker = fresh(10)
    for n in range(5):
        staff_attempt(attacker, other.email, f"wrong {n}")
    seen["locked, right password"] = staff_attempt(attacker, other.email, other.password)
    other_member = db.session.get(StaffMember, other.id)
    other_member.account.locked_until = None
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


STRONG_KDF = {"KDF_MEMORY_KIB": 65536, "KDF_ITERATIONS": 2}


@pytest.mark.parametrize("app_config", [STRONG_KDF], indirect=True)
def test_every_refusal_takes_the_same_time(app, make_handler):
    """A locked account used to answer in ~5 ms, an unknown e-mail after a dummy Argon2id in
    ~130 ms: timing told which e-mails are staff accounts. Every refusal now spends one
    Argon2id run (production strength here): the medians agree within a generous factor."""
    import statistics
    import time
    member, locked, gone = make_handler(), make_handler(), make_handler()
    attacker = browser_from(app, "203.0.113.200")
    for n in range(5):
        staff_attempt(attacker, locked.email, f"wrong {n}")
    gone_row = db.session.get(StaffMember, gone.id)
    gone_row.active = False
    db.session.commit()
    tries = {"unknown": [], "wrong password": [], "locked": [], "deactivated": []}
    for n in range(7):
        for name, browser, email, password in (
                ("unknown", browser_from(app, f"198.51.100.{n + 1}"),
                 f"nobody{n}@baltati.example", "a wrong password"),
                ("wrong password", browser_from(app, f"198.51.100.{n + 101}"), member.email,
                 "a wrong password"),
                ("locked", attacker, locked.email, locked.password),
                ("deactivated", browser_from(app, f"198.51.100.{n + 201}"), gone.email,
                 gone.password)):
            token = csrf_token(browser, "/staff/login")
            started = time.perf_counter()
            response = browser.post("/staff/login", data={"email": email, "password": password,
                                                          "csrf_token": token})
            tries[name].append(time.perf_counter() - started)
            assert response.status_code == 400, name
    medians = {name: statistics.median(times) for name, times in tries.items()}
    assert max(medians.values()) < 2.5 * min(medians.values()), medians


# --- parallel guesses through real workers -----------------------------------------------------

ROUNDS, PARALLEL = 4, 4


def _post_wrong_password(base_url: str, address: str, email: str, barrier, statuses: list):
    browser = HttpClient(base_url, language=None, headers={"X-Forwarded-For": address})
    token = browser.csrf_token("/staff/login")
    barrier.wait()
    statuses.append(browser.post_urlencoded("/staff/login", {
        "email": email, "password": secrets.token_urlsafe(12), "csrf_token": token}).status)


def test_parallel_wrong_passwords_cannot_outrun_the_lockout(app, institution, upload_folder):
    """Guesses released together through gunicorn from one address (the limiter off, so that
    only the lockout stands), with production-strength Argon2id so that they overlap as they
    would in production. At most 5 passwords may be checked before that address is locked
    out: each attempt is reserved before its Argon2id run."""
    member = staff_service.add_staff(
        institution, email="target@baltati.example", name="Target", roles=[Role.HANDLER],
        password="the real password 123", kdf_params=KdfParams(65536, 2, 1))
    db.session.commit()
    statuses: list[int] = []
    log: list[str] = []
    with gunicorn_server(app.config["SQLALCHEMY_DATABASE_URI"], upload_folder,
                         workers=PARALLEL, extra_env={"RATELIMIT_ENABLED": "0",
                                                      "PROXY_FIX_HOPS": "1"}) as (url, process):
        threading.Thread(target=lambda: log.extend(process.stdout), daemon=True).start()
        for _round in range(ROUNDS):
            barrier = threading.Barrier(PARALLEL)
            threads = [threading.Thread(target=_post_wrong_password, args=(
                url, "203.0.113.77", member.email, barrier, statuses))
                for _ in range(PARALLEL)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert sorted(set(statuses)) == [400], (statuses, log[-20:])
    db.session.rollback()
    checked = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "sign_in_failed", AuditEntry.actor_staff_id == member.id))
    db.session.refresh(member)
    assert member.account.locked_until is not None, f"{checked} wrong passwords checked, not locked"
    assert checked <= staff_auth.MAX_FAILURES, f"{checked} wrong passwords were checked"


# --- one TOTP code, two pending sign-ins ------------------------------------------------------

def test_one_code_posted_by_two_pending_sign_ins_is_accepted_once(app, institution,
                                                                  make_handler, kdf_params):
    """Two sign-ins waiting for the second factor post the same code at the same time: each
    request read the account (last used step) before the other wrote it. Two database
    sessions interleave exactly so; the conditional UPDATE of the last step lets one in."""
    import time

    from app.services.transaction import unit_of_work
    member = make_handler()
    cookies = []
    for _ in range(2):
        with unit_of_work():
            found, key = staff_auth.check_password(member.email, member.password, kdf_params,
                                                   prefer=institution)
            cookies.append(staff_auth.open_session(found, key))
    secret_key = app.config["SECRET_KEY"]
    with unit_of_work():
        secret = staff_auth.enrolment_secret(db.session.get(StaffMember, member.id), secret_key)
    code = totp.code_at(secret, time.time())
    outcomes = []

    def complete(access):
        try:
            staff_auth.complete_second_factor(access, code, secret_key)
        except staff_auth.SignInRefused:
            outcomes.append("refused")
        else:
            outcomes.append("accepted")
        db.session.commit()

    first_request, second_request = app.app_context(), app.app_context()
    first_request.push()  # each request has its own database session
    first = staff_auth.resume(cookies[0])
    second_request.push()
    second = staff_auth.resume(cookies[1])
    assert second.member.account.totp_last_step is None  # read before the first one writes it
    first_request.push()
    complete(first)  # the first one checks the code and commits...
    first_request.pop()
    complete(second)  # ...while the second, having read the account before, checks it too
    second_request.pop()
    first_request.pop()
    assert outcomes == ["accepted", "refused"]
    db.session.rollback()
    stages = Counter(db.session.scalars(select(StaffSession.stage)))
    assert stages["active"] == 1, stages

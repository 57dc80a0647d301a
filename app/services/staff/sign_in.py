"""Staff sign-in: password, then a TOTP code; the private key unlocked into a split session.

Every refusal says the same thing, whichever factor was wrong, and costs the same: one
Argon2id run, whether the e-mail is unknown, the account deactivated or locked, or the password
wrong, so neither the page nor its timing tells who has an account.

Lockout, designed against guessing AND against locking the real handler out:
- Wrong passwords (and codes) count per (account e-mail, client network): the 5th failure from
  one address locks that address out of that account for 15 minutes. An outsider cannot lock a
  commune's only handler out: the handler's own address keeps its own count. Guessing from many
  addresses is bounded by the per-address rate limits (10 a minute, 60 an hour, IPv6 per /64),
  by these 5 per address per 15 minutes, and by the second factor behind the password.
- Wrong codes, which only someone who knows the password can send, also count on the account
  itself: 5 lock the account from every address (the password is then known to someone else;
  the audit log says so, and the administrator can unlock).
- Each attempt is reserved (an atomic increment committed before the Argon2id or TOTP check),
  so that guesses sent in parallel to several workers cannot outrun the count.
- A ceiling against guessing from many addresses: past GLOBAL_MAX_FAILURES wrong passwords in
  15 minutes from all addresses together, the account takes passwords only from a device it
  was fully signed in from before (a signed cookie set after the code step); that device's
  failures count for the device alone, so even an attacker behind the same address as the
  handler cannot lock the handler's own device out.
- `locked_until` on the account says a lock is in force (shown to administrators); lifting
  it (administrator's unlock) lifts every lock of the account.

Platform accounts (the operator, observers: app/models/staff.py PlatformRole) sign in the same
way, password then TOTP, with the same locks; their session has an account and no place
(`StaffAccess.member` is None). Their sign-ins are not in any institution's audit chain (they
belong to none); what an operator does to an institution is recorded in that institution's.
"""
import secrets
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import and_, case, delete, select, update

from ... import ratelimit
from ...crypto import DecryptionError, keys
from ...crypto.appkey import DEVICE_COOKIE_SALT, Purpose, app_key
from ...crypto.kdf import KdfParams
from ...crypto.keys import PasswordLockedKey
from ...extensions import db
from ...models import Institution, StaffAccount, StaffMember, StaffSession
from ...models.staff_session import SessionStage
from ...models.types import utcnow
from .. import split_session
from ..audit import chain as audit
from ..errors import DomainError, NotAuthorised, SessionExpired
from . import totp
from .members import MIN_PASSWORD_LENGTH, WeakPassword, unlock_private_key

MAX_FAILURES = 5
GLOBAL_MAX_FAILURES = 25
DEVICE_COOKIE = "avertizor_device"
DEVICE_LIFETIME = timedelta(days=180)
LOCKOUT = timedelta(minutes=15)
WINDOW = LOCKOUT.total_seconds()
SECOND_FACTOR_WITHIN = timedelta(minutes=5)
IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)
PURPOSE = "staff"
GENERIC_REFUSAL = _l("The e-mail, password or code is not right, or the account is locked for "
                     "a while. Try again, or ask the administrator.")


class SignInRefused(DomainError):
    pass


class StaffAccess:
    """A signed-in person and their private key, for this request only.

    `place` is their StaffMember in the institution they work in now, or None for a platform
    account (operator, observer), which has none. `member` is that place for the code of an
    institution's pages and services; read on a platform session it refuses
    (NotAuthorised: the one 403 page) rather than hand institution code a None, so a path
    that forgot the platform case fails closed."""

    def __init__(self, member: StaffMember | None, private_key: X25519PrivateKey,
                 session: StaffSession, account: StaffAccount | None = None) -> None:
        if member is None and account is None:
            raise TypeError("a StaffAccess needs a member or an account")
        self.place = member
        self.private_key = private_key
        self.session = session
        self.account: StaffAccount = account if account is not None else member.account  # type: ignore[union-attr]

    @property
    def member(self) -> StaffMember:
        if self.place is None:
            raise NotAuthorised(_l("This page belongs to an institution's staff."))
        return self.place

    @member.setter
    def member(self, member: StaffMember) -> None:
        self.place = member

    @property
    def is_platform(self) -> bool:
        """A platform account's session: no institution, no institution roles."""
        return self.place is None

    @property
    def second_factor_done(self) -> bool:
        return self.session.stage is SessionStage.ACTIVE


# Who signs in: their place in one institution (institution staff), or a platform account.
Signer = StaffMember | StaffAccount


def _account(who: Signer) -> StaffAccount:
    return who if isinstance(who, StaffAccount) else who.account


def _audit(action: str, who: Signer | None) -> None:
    """Into the institution's audit chain; a platform account has none."""
    if isinstance(who, StaffMember):
        audit.record(action, institution_id=who.institution_id, actor=who)


def _lock_in_force(who: Signer) -> bool:
    locked_until = _account(who).locked_until
    return bool(locked_until and locked_until > utcnow())


def _address_counter(email: str) -> str:
    """The failures of one client network against one e-mail (digests only)."""
    return "signin|" + ratelimit.client_digest("sign-in", email)


def _global_counter(email: str) -> str:
    return "signin-all|" + ratelimit.keyed_digest("sign-in-all", email)


def _devices() -> URLSafeTimedSerializer:
    # The key is the one itsdangerous used to derive from SECRET_KEY: old cookies still verify.
    return URLSafeTimedSerializer(app_key(Purpose.KNOWN_DEVICE), salt=DEVICE_COOKIE_SALT,
                                  signer_kwargs={"key_derivation": "none"})


def new_device_cookie(who: Signer) -> str:
    """Set after a complete sign-in: this browser is one of the person's known devices."""
    return _devices().dumps({"staff": _account(who).id, "device": secrets.token_urlsafe(12)})


def _known_device(who: Signer, cookie: str | None) -> str | None:
    """The device's id if the cookie is a valid one of this member's, else None."""
    if not cookie:
        return None
    try:
        found = _devices().loads(cookie, max_age=int(DEVICE_LIFETIME.total_seconds()))
    except BadData:
        return None
    if not isinstance(found, dict) or found.get("staff") != _account(who).id:
        return None
    return str(found.get("device"))


def _lock(who: Signer, counter: str | None = None) -> None:
    """Start a lockout now (for the counter's address, or for the account if None)."""
    if counter is not None:
        ratelimit.counter_extend(counter, WINDOW, in_transaction=True)
    already = _lock_in_force(who)
    _account(who).locked_until = utcnow() + LOCKOUT
    if not already:
        _audit("account_locked", who)


def _account_locked(who: Signer) -> bool:
    """Locked from everywhere: wrong codes after a right password."""
    return _lock_in_force(who) and _account(who).failed_logins >= MAX_FAILURES


def _dummy_unlock(password: str, kdf_params: KdfParams) -> None:
    """Spend the same Argon2id time as a real check, so timing does not tell who exists or
    who is locked."""
    keys.PasswordLockedKey.create(password, kdf_params)


def check_password(email: str, password: str, kdf_params: KdfParams,
                   device: str | None = None, prefer: Institution | None = None
                   ) -> tuple[Signer, X25519PrivateKey]:
    """The membership to start in (the one at `prefer` if the person serves it, else their
    first active one), or the account itself for a platform account, and the account's
    private key. device: the browser's device cookie, if any (see new_device_cookie)."""
    email = email.strip().lower()
    member = _starting_membership(email, prefer)
    known = _known_device(member, device) if member is not None else None
    # Reserved before the Argon2id run, for known and unknown e-mails alike; the account is
    # read again after it, so that a lock set by an attempt this one waited for is seen.
    counter = (f"signin-device|{_account(member).id}|{known}" if known and member is not None
               else _address_counter(email))
    everyone = _global_counter(email)
    attempt = ratelimit.counter_hit(counter, WINDOW, in_transaction=True)
    together = 0 if known else ratelimit.counter_hit(everyone, WINDOW, in_transaction=True)
    if member is not None:
        db.session.refresh(_account(member))
    if member is not None and (isinstance(member, StaffAccount) or member.active):
        locked = _lock_in_force(member)
        refused = (attempt > MAX_FAILURES and locked) or _account_locked(member) or (
            together > GLOBAL_MAX_FAILURES and locked)
        if not refused:
            private_key = unlock_private_key(member, password)
            if private_key is not None:  # not failures: give the reservations back
                ratelimit.counter_hit(counter, WINDOW, -1, in_transaction=True)
                if not known:
                    ratelimit.counter_hit(everyone, WINDOW, -1, in_transaction=True)
                return member, private_key
            _audit("sign_in_failed", member)
            if attempt >= MAX_FAILURES:
                _lock(member, counter)
            elif together >= GLOBAL_MAX_FAILURES:
                _lock(member, everyone)
            raise SignInRefused(GENERIC_REFUSAL)
        _dummy_unlock(password, KdfParams.decode(_account(member).password_kdf))
        raise SignInRefused(GENERIC_REFUSAL)
    _dummy_unlock(password, kdf_params)
    raise SignInRefused(GENERIC_REFUSAL)


def _starting_membership(email: str, prefer: Institution | None) -> Signer | None:
    """The place to start in; a platform account starts as itself (it has no place: the
    platform commands give a platform role only to an e-mail without one)."""
    account = db.session.scalar(select(StaffAccount).where(StaffAccount.email == email))
    if account is None:
        return None
    if account.platform_role is not None:
        return account
    active = [member for member in account.memberships if member.active]
    for member in active:
        if prefer is not None and member.institution_id == prefer.id:
            return member
    return active[0] if active else (account.memberships[0] if account.memberships else None)


def open_session(who: Signer, private_key: X25519PrivateKey) -> str:
    """A session waiting for the second factor; returns the cookie value."""
    purge_expired_sessions()
    cookie, secret = split_session.new_cookie()
    now = utcnow()
    db.session.add(StaffSession(
        token_hash=secret.token_hash, account_id=_account(who).id,
        staff_id=who.id if isinstance(who, StaffMember) else None,
        stage=SessionStage.PENDING_SECOND_FACTOR,
        sealed_private_key=secret.seal(keys.private_bytes(private_key), PURPOSE),
        created_at=now, last_seen_at=now, expires_at=now + SECOND_FACTOR_WITHIN))
    db.session.flush()
    return cookie


def purge_expired_sessions() -> None:
    split_session.purge_expired(StaffSession, idle=IDLE, now=utcnow())


def resume(cookie_value: str | None) -> StaffAccess:
    secret = split_session.parse_cookie(cookie_value)
    if secret is None:
        raise SessionExpired(_l("Please sign in."))
    now = utcnow()
    session = split_session.live_row(StaffSession, secret, idle=IDLE, now=now)
    if session is None:
        raise SessionExpired(_l("Your session has ended. Please sign in again."))
    member = (db.session.get(StaffMember, session.staff_id) if session.staff_id is not None
              else None)
    account = db.session.get(StaffAccount, session.account_id)
    if account is None or (member is None and account.platform_role is None) or (
            member is not None and (not member.active or member.account_id != account.id)):
        raise SessionExpired(_l("Please sign in."))
    try:
        private_key = keys.load_private(secret.open(session.sealed_private_key, PURPOSE))
    except DecryptionError as exc:
        raise SessionExpired(_l("Please sign in.")) from exc
    session.last_seen_at = now
    return StaffAccess(member=member, private_key=private_key, session=session,
                       account=account)


def needs_enrolment(who: Signer) -> bool:
    return _account(who).totp_last_step is None


def enrolment_secret(who: Signer, app_secret: str) -> bytes:
    """The TOTP secret to show at enrolment: made once, kept until the first code confirms it."""
    account = _account(who)
    if account.totp_secret is None:
        account.totp_secret = totp.seal_secret(app_secret, account.id, totp.new_secret())
        db.session.flush()
    return totp.open_secret(app_secret, account.id, account.totp_secret)


def complete_second_factor(access: StaffAccess, code: str, app_secret: str) -> None:
    """Check the TOTP code; on success the session becomes a full one (12 hours at most)."""
    account = access.account
    member: Signer = access.place if access.place is not None else account
    counter = _address_counter(account.email)
    if _account_locked(member) or (
            _lock_in_force(member)
            and ratelimit.counter_value(counter, in_transaction=True) >= MAX_FAILURES):
        raise SignInRefused(GENERIC_REFUSAL)
    # Reserved first, in SQL: codes tried at the same time on several workers each count.
    failures = db.session.execute(
        update(StaffAccount).where(StaffAccount.id == account.id)
        .values(failed_logins=case(
            # A lock that has run out starts the count again.
            (and_(StaffAccount.locked_until.is_not(None), StaffAccount.locked_until <= utcnow(),
                  StaffAccount.failed_logins >= MAX_FAILURES), 1),
            else_=StaffAccount.failed_logins + 1))
        .returning(StaffAccount.failed_logins)
        .execution_options(synchronize_session=False)).scalar_one()
    account.failed_logins = failures
    secret = enrolment_secret(member, app_secret)
    step = totp.accepted_step(secret, code, account.totp_last_step) \
        if failures <= MAX_FAILURES else None
    if step is None or not totp.claim_step(account.id, step):
        _audit("sign_in_failed", member)
        address_failures = ratelimit.counter_hit(counter, WINDOW, in_transaction=True)
        if failures >= MAX_FAILURES:
            _lock(member)
        elif address_failures >= MAX_FAILURES:
            _lock(member, counter)
        raise SignInRefused(GENERIC_REFUSAL)
    enrolled_now = needs_enrolment(member)
    account.totp_last_step = step
    account.failed_logins = 0
    ratelimit.counter_clear(counter, in_transaction=True)
    account.last_login_at = utcnow()
    access.session.stage = SessionStage.ACTIVE
    access.session.expires_at = access.session.created_at + LIFETIME
    _audit("totp_enrolled" if enrolled_now else "sign_in", member)
    if enrolled_now:
        _audit("sign_in", member)


def record_sign_out(access: StaffAccess) -> None:
    _audit("sign_out", access.place)


def sign_out(cookie_value: str | None) -> None:
    split_session.end(StaffSession, cookie_value)


def change_password(access: StaffAccess, current: str, new: str,
                    kdf_params: KdfParams) -> None:
    """Re-wrap the same private key under the new password; other sessions end."""
    member = access.member
    if unlock_private_key(member, current) is None:
        raise SignInRefused(_l("The current password is not right."), field="current_password")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(_l("The password needs at least %(count)d characters.",
                              count=MIN_PASSWORD_LENGTH), field="new_password")
    set_password(member, new, access.private_key, kdf_params)
    db.session.execute(delete(StaffSession).where(
        StaffSession.account_id == member.account_id, StaffSession.id != access.session.id))
    audit.record("password_changed", institution_id=member.institution_id, actor=member)


def set_password(member: StaffMember, password: str, private_key: X25519PrivateKey,
                 kdf_params: KdfParams) -> None:
    locked = PasswordLockedKey.create(password, kdf_params, private_key=private_key)
    account = member.account
    account.password_salt, account.password_kdf = locked.salt, locked.kdf_params
    account.password_verifier = locked.verifier
    account.wrapped_private_key = locked.wrapped_private_key

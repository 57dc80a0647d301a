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
- `locked_until` on the account says a lock is in force (shown to administrators); lifting
  it (administrator's unlock) lifts every lock of the account.
"""
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, delete, or_, select, update

from .. import ratelimit
from ..crypto import DecryptionError, keys
from ..crypto.kdf import KdfParams
from ..crypto.keys import PasswordLockedKey
from ..extensions import db
from ..models import Institution, StaffMember, StaffSession
from ..models.staff_session import ACTIVE, PENDING_SECOND_FACTOR
from ..models.types import utcnow
from . import audit, split_session, totp
from .errors import DomainError, SessionExpired
from .staff import MIN_PASSWORD_LENGTH, WeakPassword, unlock_private_key

MAX_FAILURES = 5
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


@dataclass
class StaffAccess:
    """A signed-in staff member and their private key, for this request only."""

    member: StaffMember
    private_key: X25519PrivateKey
    session: StaffSession

    @property
    def second_factor_done(self) -> bool:
        return self.session.stage == ACTIVE


def _lock_in_force(member: StaffMember) -> bool:
    return bool(member.locked_until and member.locked_until > utcnow())


def _address_counter(institution_id: int, email: str) -> str:
    """The failures of one client network against one e-mail (digests only)."""
    return "signin|" + ratelimit.client_digest("sign-in", str(institution_id), email)


def _lock(member: StaffMember, counter: str | None = None) -> None:
    """Start a lockout now (for the counter's address, or for the account if None)."""
    if counter is not None:
        ratelimit.counter_extend(counter, WINDOW, in_transaction=True)
    already = _lock_in_force(member)
    member.locked_until = utcnow() + LOCKOUT
    if not already:
        audit.record("account_locked", institution_id=member.institution_id, actor=member)


def _account_locked(member: StaffMember) -> bool:
    """Locked from everywhere: wrong codes after a right password."""
    return _lock_in_force(member) and member.failed_logins >= MAX_FAILURES


def _dummy_unlock(password: str, kdf_params: KdfParams) -> None:
    """Spend the same Argon2id time as a real check, so timing does not tell who exists or
    who is locked."""
    keys.PasswordLockedKey.create(password, kdf_params)


def check_password(institution: Institution, email: str, password: str,
                   kdf_params: KdfParams) -> tuple[StaffMember, X25519PrivateKey]:
    email = email.strip().lower()
    # Reserved before the Argon2id run, for known and unknown e-mails alike; the account is
    # read after it, so that a lock set by an attempt this one waited for is seen.
    counter = _address_counter(institution.id, email)
    attempt = ratelimit.counter_hit(counter, WINDOW, in_transaction=True)
    member = db.session.scalar(select(StaffMember).where(
        StaffMember.institution_id == institution.id, StaffMember.email == email)
        .execution_options(populate_existing=True))
    if member is not None and member.active:
        address_locked = attempt > MAX_FAILURES and _lock_in_force(member)
        if not address_locked and not _account_locked(member):
            private_key = unlock_private_key(member, password)
            if private_key is not None:
                ratelimit.counter_hit(counter, WINDOW, -1, in_transaction=True)  # not a failure
                return member, private_key
            audit.record("sign_in_failed", institution_id=member.institution_id, actor=member)
            if attempt >= MAX_FAILURES:
                _lock(member, counter)
            raise SignInRefused(GENERIC_REFUSAL)
        _dummy_unlock(password, KdfParams.decode(member.password_kdf))
        raise SignInRefused(GENERIC_REFUSAL)
    _dummy_unlock(password, kdf_params)
    raise SignInRefused(GENERIC_REFUSAL)


def open_session(member: StaffMember, private_key: X25519PrivateKey) -> str:
    """A session waiting for the second factor; returns the cookie value."""
    purge_expired_sessions()
    cookie, secret = split_session.new_cookie()
    now = utcnow()
    db.session.add(StaffSession(
        token_hash=secret.token_hash, staff_id=member.id, stage=PENDING_SECOND_FACTOR,
        sealed_private_key=secret.seal(keys.private_bytes(private_key), PURPOSE),
        created_at=now, last_seen_at=now, expires_at=now + SECOND_FACTOR_WITHIN))
    db.session.flush()
    return cookie


def purge_expired_sessions() -> None:
    now = utcnow()
    db.session.execute(delete(StaffSession).where(or_(
        StaffSession.expires_at < now, StaffSession.last_seen_at < now - IDLE)))


def resume(cookie_value: str | None) -> StaffAccess:
    secret = split_session.parse_cookie(cookie_value)
    if secret is None:
        raise SessionExpired(_l("Please sign in."))
    session = db.session.scalar(select(StaffSession).where(
        StaffSession.token_hash == secret.token_hash))
    now = utcnow()
    if session is None or session.expires_at < now or session.last_seen_at < now - IDLE:
        raise SessionExpired(_l("Your session has ended. Please sign in again."))
    member = db.session.get(StaffMember, session.staff_id)
    if member is None or not member.active:
        raise SessionExpired(_l("Please sign in."))
    try:
        private_key = keys.load_private(secret.open(session.sealed_private_key, PURPOSE))
    except DecryptionError as exc:
        raise SessionExpired(_l("Please sign in.")) from exc
    session.last_seen_at = now
    return StaffAccess(member=member, private_key=private_key, session=session)


def needs_enrolment(member: StaffMember) -> bool:
    return member.totp_last_step is None


def enrolment_secret(member: StaffMember, app_secret: str) -> bytes:
    """The TOTP secret to show at enrolment: made once, kept until the first code confirms it."""
    if member.totp_secret is None:
        member.totp_secret = totp.seal_secret(app_secret, member.id, totp.new_secret())
        db.session.flush()
    return totp.open_secret(app_secret, member.id, member.totp_secret)


def complete_second_factor(access: StaffAccess, code: str, app_secret: str) -> None:
    """Check the TOTP code; on success the session becomes a full one (12 hours at most)."""
    member = access.member
    counter = _address_counter(member.institution_id, member.email)
    if _account_locked(member) or (
            _lock_in_force(member)
            and ratelimit.counter_value(counter, in_transaction=True) >= MAX_FAILURES):
        raise SignInRefused(GENERIC_REFUSAL)
    # Reserved first, in SQL: codes tried at the same time on several workers each count.
    failures = db.session.execute(
        update(StaffMember).where(StaffMember.id == member.id)
        .values(failed_logins=case(
            # A lock that has run out starts the count again.
            (and_(StaffMember.locked_until.is_not(None), StaffMember.locked_until <= utcnow(),
                  StaffMember.failed_logins >= MAX_FAILURES), 1),
            else_=StaffMember.failed_logins + 1))
        .returning(StaffMember.failed_logins)
        .execution_options(synchronize_session=False)).scalar_one()
    member.failed_logins = failures
    secret = enrolment_secret(member, app_secret)
    step = totp.accepted_step(secret, code, member.totp_last_step) \
        if failures <= MAX_FAILURES else None
    if step is None or not totp.claim_step(member.id, step):
        audit.record("sign_in_failed", institution_id=member.institution_id, actor=member)
        address_failures = ratelimit.counter_hit(counter, WINDOW, in_transaction=True)
        if failures >= MAX_FAILURES:
            _lock(member)
        elif address_failures >= MAX_FAILURES:
            _lock(member, counter)
        raise SignInRefused(GENERIC_REFUSAL)
    enrolled_now = needs_enrolment(member)
    member.totp_last_step = step
    member.failed_logins = 0
    ratelimit.counter_clear(counter, in_transaction=True)
    member.last_login_at = utcnow()
    access.session.stage = ACTIVE
    access.session.expires_at = access.session.created_at + LIFETIME
    audit.record("totp_enrolled" if enrolled_now else "sign_in",
                 institution_id=member.institution_id, actor=member)
    if enrolled_now:
        audit.record("sign_in", institution_id=member.institution_id, actor=member)


def record_sign_out(access: StaffAccess) -> None:
    audit.record("sign_out", institution_id=access.member.institution_id, actor=access.member)


def sign_out(cookie_value: str | None) -> None:
    secret = split_session.parse_cookie(cookie_value)
    if secret is not None:
        db.session.execute(delete(StaffSession).where(
            StaffSession.token_hash == secret.token_hash))


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
        StaffSession.staff_id == member.id, StaffSession.id != access.session.id))
    audit.record("password_changed", institution_id=member.institution_id, actor=member)


def set_password(member: StaffMember, password: str, private_key: X25519PrivateKey,
                 kdf_params: KdfParams) -> None:
    locked = PasswordLockedKey.create(password, kdf_params, private_key=private_key)
    member.password_salt, member.password_kdf = locked.salt, locked.kdf_params
    member.password_verifier = locked.verifier
    member.wrapped_private_key = locked.wrapped_private_key

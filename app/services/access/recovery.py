"""What the institution's offline recovery code is for: giving a (new) handler the existing
cases, and giving a staff member who lost their password a new key and their cases back.

The recovery private key exists only in the operator's hands and in memory for the length of
one command. Every case key is sealed to its public half at intake (see intake.submit),
so the cases open with it; a reporter's exclusions, kept inside the encrypted report, are read
and honoured before anything is re-sealed.
"""
import hmac
from collections import defaultdict
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, select

from ...crypto import envelope, keys
from ...crypto.envelope import staff_readers
from ...crypto.kdf import KdfParams
from ...crypto.seal import public_bytes
from ...extensions import db
from ...models import (
    Case,
    IdentityPolicy,
    Institution,
    KeyKind,
    KeyWrap,
    Role,
    StaffMember,
    StaffSession,
)
from ..audit import chain as audit
from ..errors import DomainError, NotAuthorised
from ..operations import notify
from ..staff import members
from ..staff.members import MIN_PASSWORD_LENGTH, WeakPassword
from . import keys as access

GRANT_ACTION = "access_granted_by_recovery"


class RecoveryRefused(DomainError):
    pass


@dataclass
class GrantResult:
    granted: int = 0
    already_held: int = 0
    skipped_excluded: int = 0


@dataclass
class ResetResult:
    restored: int = 0
    skipped_excluded: int = 0


def recovery_key(institution: Institution, code: str) -> X25519PrivateKey:
    """The recovery private key, if `code` is this institution's recovery code."""
    try:
        key = keys.private_key_from_recovery_code(code or "")
    except ValueError as exc:
        raise RecoveryRefused(_l("This is not the institution's recovery code.")) from exc
    if not hmac.compare_digest(public_bytes(key.public_key()), institution.recovery_public_key):
        raise RecoveryRefused(_l("This is not the institution's recovery code."))
    return key


def staff_by_email(institution: Institution, email: str) -> StaffMember:
    member = members.member_by_email(institution.id, email)
    if member is None:
        raise RecoveryRefused(_l("No staff account has the e-mail %(email)s.", email=email))
    return member


def _excluded_staff_ids(case: Case, case_key: bytes) -> set[int]:
    content = envelope.open_report(case_key, case.uuid, case.content)
    return set(content.get("excluded_staff_ids", []))


def _recoverable_cases(institution: Institution):
    recovery_wrap = exists().where(KeyWrap.case_id == Case.id, KeyWrap.staff_id.is_(None),
                                   KeyWrap.kind == KeyKind.CASE)
    return db.session.scalars(select(Case).where(Case.institution_id == institution.id,
                                                 recovery_wrap).order_by(Case.id))


def _reseal_identity(case: Case, member: StaffMember, recovery: X25519PrivateKey) -> bool:
    if case.identity is None:
        return False
    try:
        identity_key = access.open_case_key_with_recovery(case, recovery, KeyKind.IDENTITY)
    except NotAuthorised:
        return False
    access.seal_identity_key(case, identity_key, to=staff_readers([member]))
    return True


def grant_all(institution: Institution, member: StaffMember,
              recovery: X25519PrivateKey) -> GrantResult:
    """Seal every case key to this handler, except where the reporter excluded them; under
    identity policy `direct` the identity key too. One audit entry per case granted."""
    if member.institution_id != institution.id or not member.active \
            or not member.has_role(Role.HANDLER):
        raise RecoveryRefused(_l("%(email)s is not an active, confirmed handler (confirm the "
                                 "account first: flask staff confirm).", email=member.email))
    result = GrantResult()
    for case in _recoverable_cases(institution):
        if access.holds_key(case, member):
            result.already_held += 1
            continue
        case_key = access.open_case_key_with_recovery(case, recovery)
        if member.id in _excluded_staff_ids(case, case_key):
            result.skipped_excluded += 1
            continue
        access.seal_case_key(case, case_key, to=staff_readers([member]))
        identity = institution.identity_policy is IdentityPolicy.DIRECT and \
            _reseal_identity(case, member, recovery)
        audit.record(GRANT_ACTION, institution_id=institution.id, case=case,
                     detail={"to": member.id, "identity": identity})
        result.granted += 1
    db.session.flush()
    if result.granted:
        notify.new_reader(member, "recovery")  # the other handlers learn of it
    return result


def reset_password(institution: Institution, member: StaffMember, recovery: X25519PrivateKey,
                   new_password: str, kdf_params: KdfParams) -> ResetResult:
    """A new key pair under the new password (the old private key is lost with the old
    password); the case and identity keys the member held are sealed again to the new key from
    the recovery wraps. Their TOTP enrolment and sessions end: they enrol again at sign-in."""
    if member.institution_id != institution.id:
        raise RecoveryRefused(_l("No staff account has the e-mail %(email)s.",
                                 email=member.email))
    others = [other for other in member.account.memberships
              if other.institution_id != institution.id]
    if others:
        # A new key pair would leave the keys the other institutions sealed to this person
        # unopenable, and one institution's recovery code cannot seal them again.
        raise RecoveryRefused(_l("%(email)s also works for other institutions on this portal. "
                                 "Ask the platform operator to remove them from the others "
                                 "first, then reset the password here.", email=member.email))
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(_l("The password needs at least %(count)d characters.",
                              count=MIN_PASSWORD_LENGTH), field="password")
    held: dict[int, set[KeyKind]] = defaultdict(set)
    for case_id, kind in db.session.execute(select(KeyWrap.case_id, KeyWrap.kind).where(
            KeyWrap.staff_id == member.id)):
        held[case_id].add(kind)

    locked = keys.PasswordLockedKey.create(new_password, kdf_params)
    account = member.account
    account.public_key, account.wrapped_private_key = locked.public_key, locked.wrapped_private_key
    account.password_salt, account.password_kdf = locked.salt, locked.kdf_params
    account.password_verifier = locked.verifier
    db.session.execute(delete(KeyWrap).where(KeyWrap.staff_id == member.id))
    db.session.flush()

    result = ResetResult()
    for case_id in sorted(held):
        case = db.session.get_one(Case, case_id)
        case_key = access.open_case_key_with_recovery(case, recovery)
        if member.id in _excluded_staff_ids(case, case_key):
            result.skipped_excluded += 1  # should never have held it; do not restore
            continue
        if KeyKind.CASE in held[case_id]:
            access.seal_case_key(case, case_key, to=staff_readers([member]))
        identity = KeyKind.IDENTITY in held[case_id] and _reseal_identity(case, member, recovery)
        audit.record(GRANT_ACTION, institution_id=institution.id, case=case,
                     detail={"to": member.id, "identity": identity, "after": "password_reset"})
        result.restored += 1

    account.totp_secret = None
    account.totp_last_step = None
    account.failed_logins = 0
    account.locked_until = None
    db.session.execute(delete(StaffSession).where(StaffSession.staff_id == member.id))
    audit.record("password_reset_by_recovery", institution_id=institution.id,
                 detail={"staff": member.id, "cases": result.restored})
    db.session.flush()
    if result.restored:
        # A new key now opens those cases: the other handlers learn of it.
        notify.new_reader(member, "recovery")
    return result

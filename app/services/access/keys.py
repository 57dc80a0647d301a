"""Who can open a case: storing its keys sealed to the readers the caller names, and opening
them again. Each caller names every reader, the recovery key included:

    seal_case_key(case, case_key, to=staff_readers(handlers) + [recovery_reader(institution)])
"""
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select

from ...crypto import envelope
from ...crypto.envelope import Recipient
from ...extensions import db
from ...models import Case, IdentityPolicy, Institution, KeyKind, KeyWrap, StaffAccount, StaffMember
from ..errors import NotAuthorised
from ..staff.directory import custodians, handlers

_SEAL = {KeyKind.CASE: envelope.seal_case_key, KeyKind.IDENTITY: envelope.seal_identity_key}
_OPEN = {KeyKind.CASE: envelope.open_case_key, KeyKind.IDENTITY: envelope.open_identity_key}


def _wrap(case: Case, staff_id: int | None, kind: KeyKind) -> KeyWrap | None:
    """The one KeyWrap row of a reader (staff_id None: the recovery key) for a case's key."""
    holder = KeyWrap.staff_id.is_(None) if staff_id is None else KeyWrap.staff_id == staff_id
    return db.session.scalar(select(KeyWrap).where(
        KeyWrap.case_id == case.id, holder, KeyWrap.kind == kind))


def _store(case: Case, kind: KeyKind, key: bytes, to: list[Recipient]) -> None:
    # A case not yet flushed has no wraps; otherwise a reader who holds one keeps it.
    if case.id is not None:
        to = [recipient for recipient in to if _wrap(case, recipient.staff_id, kind) is None]
    for recipient, sealed in _SEAL[kind](key, case.uuid, to=to):
        db.session.add(KeyWrap(institution_id=case.institution_id, case=case,
                               staff_id=recipient.staff_id, kind=kind, sealed_key=sealed))


def seal_case_key(case: Case, case_key: bytes, to: list[Recipient]) -> None:
    """Store the case key sealed to each of `to` (one KeyWrap row each)."""
    _store(case, KeyKind.CASE, case_key, to)


def seal_identity_key(case: Case, identity_key: bytes, to: list[Recipient]) -> None:
    _store(case, KeyKind.IDENTITY, identity_key, to)


def eligible_handlers(institution: Institution, excluded_staff_ids: set[int]
                      ) -> list[StaffMember]:
    """The active, confirmed handlers a new report is sealed to: all but those excluded."""
    return [m for m in handlers(institution.id) if m.id not in excluded_staff_ids]


def identity_readers(institution: Institution, excluded_staff_ids: set[int],
                     case_handlers: list[StaffMember]) -> list[StaffMember]:
    """Who holds a new report's identity key: its handlers (policy `direct`) or the
    custodians the reporter did not exclude (policy `custodian`)."""
    if institution.identity_policy is IdentityPolicy.CUSTODIAN:
        return [m for m in custodians(institution.id) if m.id not in excluded_staff_ids]
    return case_handlers


def open_case_key(case: Case, member: StaffMember, private_key: X25519PrivateKey,
                  kind: KeyKind = KeyKind.CASE) -> bytes:
    """The case (or identity) key for a staff member holding a wrap; NotAuthorised otherwise."""
    wrap = _wrap(case, member.id, kind)
    if wrap is None:
        raise NotAuthorised(_l("You do not hold a key for this case."))
    return _OPEN[kind](wrap.sealed_key, case.uuid, private_key)


def holds_key(case: Case, member: StaffMember, kind: KeyKind = KeyKind.CASE) -> bool:
    """Whether the member holds a wrap of the case's key (or of its identity key)."""
    return _wrap(case, member.id, kind) is not None


def holds_identity_key(case: Case, member: StaffMember) -> bool:
    return holds_key(case, member, KeyKind.IDENTITY)


def open_case_key_with_recovery(case: Case, recovery_key: X25519PrivateKey,
                                kind: KeyKind = KeyKind.CASE) -> bytes:
    wrap = _wrap(case, None, kind)
    if wrap is None:
        raise NotAuthorised(_l("This case has no key for the recovery code."))
    return _OPEN[kind](wrap.sealed_key, case.uuid, recovery_key)


def holders(case: Case) -> list[StaffMember]:
    """Staff who hold the case key, in name order."""
    return list(db.session.scalars(
        select(StaffMember).join(KeyWrap, KeyWrap.staff_id == StaffMember.id)
        .join(StaffMember.account)
        .where(KeyWrap.case_id == case.id, KeyWrap.kind == KeyKind.CASE)
        .order_by(StaffAccount.name)))


def grantable(case: Case, excluded_staff_ids: set[int],
              current_holders: list[StaffMember]) -> list[StaffMember]:
    """Handlers who could be given access: never one the reporter excluded."""
    holding = {member.id for member in current_holders}
    return [member for member in handlers(case.institution_id)
            if member.id not in holding and member.id not in excluded_staff_ids]


def unreadable_case_count(institution_id: int) -> int:
    """Cases no active handler can open (every holder was deactivated or lost the role, or
    the case was sealed to nobody): only the recovery code reaches them now."""
    active_ids = [member.id for member in handlers(institution_id)]
    readable = exists().where(and_(KeyWrap.case_id == Case.id, KeyWrap.kind == KeyKind.CASE,
                                   KeyWrap.staff_id.in_(active_ids)))
    return db.session.scalar(select(func.count(Case.id)).where(
        Case.institution_id == institution_id, Case.purged_at.is_(None), ~readable)) or 0

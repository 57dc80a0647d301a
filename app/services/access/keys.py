"""Who can open a case: sealing its keys to people, and opening them again."""
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select

from ...crypto import envelope
from ...crypto.envelope import Recipient
from ...crypto.keys import load_public
from ...extensions import db
from ...models import Case, IdentityPolicy, Institution, KeyKind, KeyWrap, StaffMember
from ..errors import NotAuthorised
from ..staff.directory import custodians, handlers


def _recipients(members: list[StaffMember], institution: Institution) -> list[Recipient]:
    people = [Recipient(member.id, load_public(member.public_key)) for member in members]
    return people + [Recipient(None, load_public(institution.recovery_public_key))]


def _store_wraps(case: Case, kind: KeyKind, key: bytes, to: list[Recipient]) -> None:
    for recipient, sealed in envelope.seal_key(key, kind.value, case.uuid, to=to):
        db.session.add(KeyWrap(institution_id=case.institution_id, case=case,
                               staff_id=recipient.staff_id, kind=kind, sealed_key=sealed))


def seal_new_case(case: Case, institution: Institution, *, case_key: bytes,
                  identity_key: bytes | None, excluded_staff_ids: set[int]) -> list[StaffMember]:
    """Seal the case key to every handler the reporter did not exclude, and to the recovery key.
    The identity key goes to those handlers (policy `direct`) or to the custodians (policy
    `custodian`). Returns the handlers who can read the case."""
    eligible = [m for m in handlers(institution.id) if m.id not in excluded_staff_ids]
    _store_wraps(case, KeyKind.CASE, case_key, to=_recipients(eligible, institution))
    if identity_key is not None:
        if institution.identity_policy is IdentityPolicy.CUSTODIAN:
            identity_readers = [m for m in custodians(institution.id)
                                if m.id not in excluded_staff_ids]
        else:
            identity_readers = eligible
        _store_wraps(case, KeyKind.IDENTITY, identity_key,
                     to=_recipients(identity_readers, institution))
    return eligible


def open_case_key(case: Case, member: StaffMember, private_key: X25519PrivateKey,
                  kind: KeyKind = KeyKind.CASE) -> bytes:
    """The case (or identity) key for a staff member holding a wrap; NotAuthorised otherwise."""
    wrap = db.session.scalar(select(KeyWrap).where(
        KeyWrap.case_id == case.id, KeyWrap.staff_id == member.id, KeyWrap.kind == kind))
    if wrap is None:
        raise NotAuthorised(_l("You do not hold a key for this case."))
    return envelope.open_key(wrap.sealed_key, kind.value, case.uuid, private_key)


def holds_key(case: Case, member: StaffMember, kind: KeyKind = KeyKind.CASE) -> bool:
    """Whether the member holds a wrap of the case's key (or of its identity key)."""
    return db.session.scalar(select(KeyWrap.id).where(
        KeyWrap.case_id == case.id, KeyWrap.staff_id == member.id,
        KeyWrap.kind == kind)) is not None


def holds_identity_key(case: Case, member: StaffMember) -> bool:
    return holds_key(case, member, KeyKind.IDENTITY)


def open_case_key_with_recovery(case: Case, recovery_key: X25519PrivateKey,
                                kind: KeyKind = KeyKind.CASE) -> bytes:
    wrap = db.session.scalar(select(KeyWrap).where(
        KeyWrap.case_id == case.id, KeyWrap.staff_id.is_(None), KeyWrap.kind == kind))
    if wrap is None:
        raise NotAuthorised(_l("This case has no key for the recovery code."))
    return envelope.open_key(wrap.sealed_key, kind.value, case.uuid, recovery_key)


def holders(case: Case) -> list[StaffMember]:
    """Staff who hold the case key, in name order."""
    return list(db.session.scalars(
        select(StaffMember).join(KeyWrap, KeyWrap.staff_id == StaffMember.id)
        .where(KeyWrap.case_id == case.id, KeyWrap.kind == KeyKind.CASE)
        .order_by(StaffMember.name)))


def grantable(case: Case, excluded_staff_ids: set[int],
              current_holders: list[StaffMember]) -> list[StaffMember]:
    """Handlers who could be given access: never one the reporter excluded."""
    holding = {member.id for member in current_holders}
    return [member for member in handlers(case.institution_id)
            if member.id not in holding and member.id not in excluded_staff_ids]


def reseal(case: Case, kind: KeyKind, key: bytes, to: StaffMember) -> None:
    if holds_key(case, to, kind):
        return
    _store_wraps(case, kind, key, to=[Recipient(to.id, load_public(to.public_key))])


def unreadable_case_count(institution_id: int) -> int:
    """Cases no active handler can open (every holder was deactivated or lost the role, or
    the case was sealed to nobody): only the recovery code reaches them now."""
    active_ids = [member.id for member in handlers(institution_id)]
    readable = exists().where(and_(KeyWrap.case_id == Case.id, KeyWrap.kind == KeyKind.CASE,
                                   KeyWrap.staff_id.in_(active_ids)))
    return db.session.scalar(select(func.count(Case.id)).where(
        Case.institution_id == institution_id, Case.purged_at.is_(None), ~readable)) or 0

"""Giving a colleague access to a case, or taking it back: re-sealing the keys, audited."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete

from ...crypto import envelope
from ...crypto.envelope import staff_readers
from ...extensions import db
from ...models import IdentityPolicy, Institution, KeyKind, KeyWrap, Role, StaffMember
from ..audit import chain as audit
from ..errors import DomainError
from . import keys as key_access
from .opened import OpenCase


class GrantRefused(DomainError):
    pass


def _colleague(case, member_id: int) -> StaffMember:
    member = db.session.get(StaffMember, member_id)
    if member is None or member.institution_id != case.institution_id or not member.active \
            or not member.has_role(Role.HANDLER):
        raise GrantRefused(_l("Choose an active handler of the institution."))
    return member


def grant(opened: OpenCase, member_id: int) -> StaffMember:
    """Seal the case key (and, under policy `direct`, the identity key) to a colleague."""
    access, case, case_key = opened.access, opened.case, opened.key
    content = envelope.open_report(case_key, case.uuid, case.content)
    member = _colleague(case, member_id)
    if member.id in set(content.get("excluded_staff_ids", [])):
        raise GrantRefused(_l("The reporter excluded this person from the case."))
    key_access.seal_case_key(case, case_key, to=staff_readers([member]))
    if case.identity is not None and key_access.holds_identity_key(case, access.member) \
            and _institution_policy(case) is IdentityPolicy.DIRECT:
        identity_key = key_access.open_case_key(case, access.member, access.private_key,
                                                KeyKind.IDENTITY)
        key_access.seal_identity_key(case, identity_key, to=staff_readers([member]))
    audit.record("access_granted", institution_id=case.institution_id, actor=access.member,
                 case=case, detail={"to": member.id})
    return member


def revoke(opened: OpenCase, member_id: int) -> StaffMember:
    access, case = opened.access, opened.case
    if member_id == access.member.id:
        raise GrantRefused(_l("You cannot remove your own access; ask a colleague."))
    member = db.session.get(StaffMember, member_id)
    if member is None or member.institution_id != case.institution_id:
        raise GrantRefused(_l("Choose an active handler of the institution."))
    db.session.execute(delete(KeyWrap).where(KeyWrap.case_id == case.id,
                                             KeyWrap.staff_id == member.id))
    if case.assigned_staff_id == member.id:
        case.assigned_staff_id = None
    audit.record("access_revoked", institution_id=case.institution_id, actor=access.member,
                 case=case, detail={"from": member.id})
    return member


def _institution_policy(case) -> IdentityPolicy:
    return db.session.get_one(Institution, case.institution_id).identity_policy

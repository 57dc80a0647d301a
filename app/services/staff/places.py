"""The institutions one signed-in person serves, and which of them they work in now.

A designated person shared by several communes has one account and one session; the session
points at their place (StaffMember) in one institution at a time, and every role check, query
and page follows that place. Switching changes only that pointer: the private key in the
session is the account's, the same for every institution."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import Case, Institution, StaffMember
from ..audit import chain as audit
from ..errors import NotAuthorised
from .sign_in import StaffAccess


def places(access: StaffAccess) -> list[tuple[StaffMember, Institution]]:
    """The account's active places, with their institutions, in institution-name order."""
    rows = db.session.execute(
        select(StaffMember, Institution).join(Institution,
                                              Institution.id == StaffMember.institution_id)
        .where(StaffMember.account_id == access.member.account_id,
               StaffMember.active.is_(True))
        .order_by(Institution.name, Institution.id)).all()
    return [(member, institution) for member, institution in rows]


def switch_to(access: StaffAccess, institution_id: int) -> StaffMember:
    """Work in that institution from now on (NotAuthorised unless the person serves it)."""
    for member, _institution in places(access):
        if member.institution_id == institution_id:
            if member.id != access.member.id:
                access.session.staff_id = member.id
                access.member = member
                audit.record("institution_entered", institution_id=institution_id,
                             actor=member)
            return member
    raise NotAuthorised(_l("You do not work for that institution."))


def enter_institution_of_case(access: StaffAccess, case_id: int) -> None:
    """Opening a case of another institution the person serves switches to it, so that the
    case is read with their roles and key there and the page names that institution. A case
    of an institution they do not serve changes nothing (the case guard refuses it)."""
    institution_id = db.session.scalar(select(Case.institution_id).where(Case.id == case_id))
    if institution_id is None or institution_id == access.member.institution_id:
        return
    if any(member.institution_id == institution_id for member, _ in places(access)):
        switch_to(access, institution_id)

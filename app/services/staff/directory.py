"""Who works here, as the other services ask: the active handlers a report is sealed to, the
custodians of identities, and staff names to label a case's history."""
from sqlalchemy import func, select

from ...extensions import db
from ...models import Role, StaffMember


def handlers(institution_id: int) -> list[StaffMember]:
    """Active handlers, in name order: the people a report is sealed to by default."""
    members = db.session.scalars(
        select(StaffMember)
        .where(StaffMember.institution_id == institution_id, StaffMember.active.is_(True))
        .order_by(func.lower(StaffMember.name))
    )
    return [member for member in members if member.has_role(Role.HANDLER)]


def custodians(institution_id: int) -> list[StaffMember]:
    members = db.session.scalars(
        select(StaffMember).where(StaffMember.institution_id == institution_id,
                                  StaffMember.active.is_(True)))
    return [member for member in members if member.has_role(Role.CUSTODIAN)]


def names(institution_id: int) -> dict[int, str]:
    """Staff names by id, to label assignments and events without a query per row."""
    return dict(db.session.execute(
        select(StaffMember.id, StaffMember.name).where(
            StaffMember.institution_id == institution_id)).all())

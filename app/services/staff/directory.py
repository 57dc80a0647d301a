"""Who works here, as the other services ask: the active handlers a report is sealed to, the
custodians of identities, and staff names to label a case's history."""
from sqlalchemy import func, select

from ...extensions import db
from ...models import Role, StaffAccount, StaffMember


def handlers(institution_id: int) -> list[StaffMember]:
    """Active handlers, in name order: the people a report is sealed to by default."""
    members = db.session.scalars(
        select(StaffMember).join(StaffMember.account)
        .where(StaffMember.institution_id == institution_id, StaffMember.active.is_(True))
        .order_by(func.lower(StaffAccount.name))
    )
    return [member for member in members if member.has_role(Role.HANDLER)]


def custodians(institution_id: int) -> list[StaffMember]:
    members = db.session.scalars(
        select(StaffMember).where(StaffMember.institution_id == institution_id,
                                  StaffMember.active.is_(True)))
    return [member for member in members if member.has_role(Role.CUSTODIAN)]


def names(institution_ids: int | list[int]) -> dict[int, str]:
    """Staff names by id, of one institution or several, to label assignments and events
    without a query per row."""
    ids = [institution_ids] if isinstance(institution_ids, int) else institution_ids
    return dict(db.session.execute(
        select(StaffMember.id, StaffAccount.name).join(StaffMember.account).where(
            StaffMember.institution_id.in_(ids))).all())

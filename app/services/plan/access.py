"""Who may see and fill in the plan, checked here and not in the views.

The coordinator edits the plan and sees everything about it. A plan contributor sees the plan
(its measures, what is due) and records status, progress, values and evidence for the measures
assigned to them; nothing of the plan leads to a case, an indicator of cases or an identity
(the computed figures are shown to the coordinator only)."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import MeasureAssignee, Plan, PlanMeasure, Role, StaffMember
from ..access.guards import require_role
from ..errors import DomainError, NotAuthorised

PLAN_READERS = (Role.COORDINATOR, Role.PLAN_CONTRIBUTOR)


class PlanNotFound(DomainError):
    pass


def require_reader(member: StaffMember) -> None:
    require_role(member, *PLAN_READERS)


def require_coordinator(member: StaffMember) -> None:
    require_role(member, Role.COORDINATOR)


def is_coordinator(member: StaffMember) -> bool:
    return member.active and member.has_role(Role.COORDINATOR)


def current_plan(institution_id: int) -> Plan | None:
    """The institution's plan in force: the latest loaded."""
    return db.session.scalar(select(Plan).where(Plan.institution_id == institution_id)
                             .order_by(Plan.id.desc()).limit(1))


def plan_for(member: StaffMember) -> Plan | None:
    require_reader(member)
    return current_plan(member.institution_id)


def measure_for(member: StaffMember, measure_id: int) -> PlanMeasure:
    """A measure of the member's institution's plan; PlanNotFound otherwise (ids of other
    institutions look the same as missing ones)."""
    require_reader(member)
    measure = db.session.get(PlanMeasure, measure_id)
    plan = db.session.get(Plan, measure.plan_id) if measure is not None else None
    if plan is None or plan.institution_id != member.institution_id:
        raise PlanNotFound(_l("This measure does not exist (any more)."))
    return measure


def assigned_ids(member: StaffMember) -> set[int]:
    return set(db.session.scalars(select(MeasureAssignee.measure_id).where(
        MeasureAssignee.staff_id == member.id)))


def may_follow(member: StaffMember, measure: PlanMeasure) -> bool:
    if is_coordinator(member):
        return True
    return member.active and member.has_role(Role.PLAN_CONTRIBUTOR) \
        and measure.id in assigned_ids(member)


def require_follow(member: StaffMember, measure: PlanMeasure) -> None:
    if not may_follow(member, measure):
        raise NotAuthorised(_l("Only the coordinator and the people responsible for this "
                               "measure record its progress."))

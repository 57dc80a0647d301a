"""The coordinator adapts the plan (measure 1.7 asks for it every year): adds, revises or
retires a measure. Every change is a version (who, when, each field's old and new value), so
the evaluation can list the measures introduced or revised in a year."""
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import (
    Change,
    MeasureAssignee,
    MeasureVersion,
    Plan,
    PlanMeasure,
    PlanObjective,
    Role,
    StaffAccount,
    StaffMember,
)
from ...models.types import utcnow
from ..audit import chain as audit
from ..errors import DomainError
from ..indicators.periods import local_midnight_utc
from . import access
from .data import MeasureData, PlanDataRefused, from_mapping
from .labels import CHANGE
from .loader import fill_measure, record_version, snapshot


class EditRefused(DomainError):
    pass


def checked(plan: Plan, raw: dict, code_of: PlanMeasure | None = None) -> MeasureData:
    """A measure typed in the form, checked by the same rules as a data file."""
    try:
        parsed = from_mapping({"title": plan.title, "objectives": [
            {"number": 1, "title": "-", "measures": [raw]}]})
    except PlanDataRefused as error:
        raise EditRefused(error.message, field=error.field) from error
    data = parsed.measures[0]
    clash = db.session.scalar(select(PlanMeasure.id).where(
        PlanMeasure.plan_id == plan.id, PlanMeasure.code == data.code))
    if clash is not None and (code_of is None or clash != code_of.id):
        raise EditRefused(_l("Measure %(code)s already exists.", code=data.code), field="code")
    return data


def _objective(plan: Plan, number: int, title: str | None) -> PlanObjective:
    objective = db.session.scalar(select(PlanObjective).where(
        PlanObjective.plan_id == plan.id, PlanObjective.number == number))
    if objective is None:
        if title is None or not title.strip():
            raise EditRefused(_l("Objective %(n)d is new: give its title.", n=number),
                              field="objective_title")
        objective = PlanObjective(plan=plan, number=number, title=" ".join(title.split()))
        db.session.add(objective)
        db.session.flush()
    return objective


def add_measure(member: StaffMember, objective_number: int, raw: dict,
                objective_title: str | None = None) -> PlanMeasure:
    access.require_coordinator(member)
    plan = access.current_plan(member.institution_id)
    if plan is None:
        raise EditRefused(_l("Load or start a plan first."))
    data = checked(plan, raw)
    objective = _objective(plan, objective_number, objective_title)
    measure = PlanMeasure(plan_id=plan.id, objective_id=objective.id,
                          position=len(objective.measures))
    fill_measure(measure, data)
    db.session.add(measure)
    db.session.flush()
    record_version(measure, Change.INTRODUCED, member.id)
    audit.record("plan_measure_introduced", institution_id=member.institution_id,
                 actor=member, detail={"measure_id": measure.id, "code": measure.code})
    return measure


def revise_measure(member: StaffMember, measure_id: int, raw: dict) -> PlanMeasure:
    access.require_coordinator(member)
    measure = access.measure_for(member, measure_id)
    if measure.retired_at is not None:
        raise EditRefused(_l("This measure was retired; it can no longer be revised."))
    plan = db.session.get_one(Plan, measure.plan_id)
    data = checked(plan, raw, code_of=measure)
    before = snapshot(measure)
    fill_measure(measure, data)
    db.session.flush()
    db.session.refresh(measure, ["indicators"])
    after = snapshot(measure)
    changes = {name: {"old": before[name], "new": after[name]}
               for name in after if before[name] != after[name]}
    if not changes:
        return measure
    measure.updated_at = utcnow()
    record_version(measure, Change.REVISED, member.id, changes)
    audit.record("plan_measure_revised", institution_id=member.institution_id, actor=member,
                 detail={"measure_id": measure.id, "code": measure.code,
                         "fields": sorted(changes)})
    return measure


def retire_measure(member: StaffMember, measure_id: int) -> PlanMeasure:
    access.require_coordinator(member)
    measure = access.measure_for(member, measure_id)
    if measure.retired_at is None:
        measure.retired_at = utcnow()
        record_version(measure, Change.RETIRED, member.id,
                       {"retired": {"old": False, "new": True}})
        audit.record("plan_measure_retired", institution_id=member.institution_id,
                     actor=member, detail={"measure_id": measure.id, "code": measure.code})
    return measure


def versions(member: StaffMember, measure_id: int) -> list[MeasureVersion]:
    measure = access.measure_for(member, measure_id)
    return list(db.session.scalars(select(MeasureVersion).where(
        MeasureVersion.measure_id == measure.id).order_by(MeasureVersion.number.desc())))


def changes_in_year(plan: Plan | None, year: int) -> list[tuple[PlanMeasure, MeasureVersion]]:
    """Introductions, revisions and retirements made in the local year, oldest first (the
    plan's own loading is not a change)."""
    if plan is None:
        return []
    start, end = local_midnight_utc(date(year, 1, 1)), local_midnight_utc(date(year + 1, 1, 1))
    return [(measure, version) for measure, version in db.session.execute(
        select(PlanMeasure, MeasureVersion)
        .join(MeasureVersion, MeasureVersion.measure_id == PlanMeasure.id)
        .where(PlanMeasure.plan_id == plan.id, MeasureVersion.change != Change.LOADED,
               MeasureVersion.changed_at >= start, MeasureVersion.changed_at < end)
        .order_by(MeasureVersion.changed_at, MeasureVersion.id)).all()]


def changed_in_year(plan: Plan | None, year: int) -> list[str]:
    """"1.3 (revised)", one line per measure, its changes of the year named once each."""
    seen: dict[str, list[str]] = {}
    for measure, version in changes_in_year(plan, year):
        words = seen.setdefault(measure.code, [])
        word = str(CHANGE[version.change])
        if word not in words:
            words.append(word)
    return [f"{code} ({', '.join(words)})" for code, words in seen.items()]


def assign(member: StaffMember, measure_id: int, staff_ids: list[int]) -> None:
    """The staff accounts responsible for a measure (contributors or coordinators of the same
    institution), replacing the previous choice."""
    access.require_coordinator(member)
    measure = access.measure_for(member, measure_id)
    eligible = {other.id for other in db.session.scalars(select(StaffMember).where(
        StaffMember.institution_id == member.institution_id, StaffMember.active.is_(True)))
        if other.has_role(Role.PLAN_CONTRIBUTOR) or other.has_role(Role.COORDINATOR)}
    wanted = set(staff_ids) & eligible
    current = {row.staff_id: row for row in db.session.scalars(select(MeasureAssignee).where(
        MeasureAssignee.measure_id == measure.id))}
    for staff_id, row in current.items():
        if staff_id not in wanted:
            db.session.delete(row)
    for staff_id in wanted - set(current):
        db.session.add(MeasureAssignee(measure_id=measure.id, staff_id=staff_id))
    db.session.flush()
    audit.record("plan_measure_assigned", institution_id=member.institution_id, actor=member,
                 detail={"measure_id": measure.id, "staff_ids": sorted(wanted)})


def assignees(measure: PlanMeasure) -> list[StaffMember]:
    return list(db.session.scalars(
        select(StaffMember).join(MeasureAssignee, MeasureAssignee.staff_id == StaffMember.id)
        .join(StaffMember.account)
        .where(MeasureAssignee.measure_id == measure.id).order_by(StaffAccount.name)))


def eligible_assignees(member: StaffMember) -> list[StaffMember]:
    access.require_coordinator(member)
    return [other for other in db.session.scalars(select(StaffMember).join(StaffMember.account)
        .where(StaffMember.institution_id == member.institution_id,
               StaffMember.active.is_(True))
        .order_by(StaffAccount.name))
        if other.has_role(Role.PLAN_CONTRIBUTOR) or other.has_role(Role.COORDINATOR)]

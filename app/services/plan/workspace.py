"""What the plan's pages show, gathered for one member and year: the overview (every measure
with its status, what is due) and one measure's year. Computed figures come from the
portal's statistics of cases, so only the coordinator gets them; a contributor sees the typed
values and that a figure is computed, never the figure."""
from dataclasses import dataclass, field
from datetime import date

from ...models import (
    MeasureStatus,
    MeasureVersion,
    MeasureYear,
    Plan,
    PlanIndicator,
    PlanMeasure,
    StaffMember,
)
from ..localtime import local_today
from . import access, computed, deadlines, editing, following
from . import evidence as plan_evidence
from .schedule import Due, active_measures, due_items


@dataclass
class Overview:
    plan: Plan | None
    year: int
    measures: list[PlanMeasure]
    statuses: dict[int, MeasureYear]
    due: list[Due]
    mine: set[int]
    coordinator: bool

    def status(self, measure: PlanMeasure) -> MeasureStatus:
        row = self.statuses.get(measure.id)
        return row.status if row else MeasureStatus.NOT_STARTED


def overview(member: StaffMember, year: int) -> Overview:
    plan = access.plan_for(member)
    following.check_year(year)
    measures = active_measures(plan)
    mine = access.assigned_ids(member)
    coordinator = access.is_coordinator(member)
    due = due_items(plan, year, local_today())
    if not coordinator:  # a contributor's list of what is due: their own measures
        due = [item for item in due if item.measure.id in mine]
    return Overview(plan, year, measures,
                    following.statuses([measure.id for measure in measures], year), due, mine,
                    coordinator)


@dataclass
class IndicatorRow:
    indicator: PlanIndicator
    typed: str | None = None
    figure: computed.Computed | None = None  # the coordinator's view of a computed one


@dataclass
class MeasurePage:
    measure: PlanMeasure
    year: int
    status: MeasureYear | None
    deadline: deadlines.Deadline
    due_dates: list[date]
    indicators: list[IndicatorRow]
    progress: list
    evidence: list
    versions: list[MeasureVersion]
    may_follow: bool
    coordinator: bool
    assignees: list[StaffMember] = field(default_factory=list)


def measure_page(member: StaffMember, measure_id: int, year: int) -> MeasurePage:
    measure = access.measure_for(member, measure_id)
    following.check_year(year)
    plan = access.current_plan(member.institution_id)
    coordinator = access.is_coordinator(member)
    indicators = [item for item in measure.indicators if not item.retired]
    typed = following.typed_values(indicators, year)
    facts = computed.Facts(member.institution_id, year, plan)
    rows = []
    for item in indicators:
        row = IndicatorRow(item, typed[item.id].value if item.id in typed else None)
        if item.computed and coordinator:
            row.figure = computed.compute(item.computed, facts)
        rows.append(row)
    deadline = deadlines.parse(measure.deadline)
    first_year = plan.adopted_on.year if plan and plan.adopted_on else None
    return MeasurePage(
        measure=measure, year=year, status=following.year_row(measure, year),
        deadline=deadline, due_dates=deadline.due_dates(year, first_year), indicators=rows,
        progress=following.progress(measure, year),
        evidence=plan_evidence.listed(measure.id, year), versions=editing.versions(
            member, measure.id), may_follow=access.may_follow(member, measure),
        coordinator=coordinator, assignees=editing.assignees(measure))

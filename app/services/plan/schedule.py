"""What is due and what is overdue, from each measure's deadline as written (deadlines.py)
and its status for the year.

- A one-off deadline ("31 martie 2022") is met once the measure was implemented in any year;
  until then it is overdue from the day after.
- A recurring one ("Anual", "Permanent", "La 2 ani") is due at each due date of the year and
  met by that year's status "implemented" or "permanent, ongoing"."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ...extensions import db
from ...models import MeasureStatus, MeasureYear, Plan, PlanMeasure
from . import deadlines

DONE = (MeasureStatus.IMPLEMENTED, MeasureStatus.ONGOING)


@dataclass(frozen=True)
class Due:
    measure: PlanMeasure
    day: date
    overdue: bool


def active_measures(plan: Plan | None) -> list[PlanMeasure]:
    if plan is None:
        return []
    return [measure for objective in plan.objectives for measure in objective.measures
            if measure.retired_at is None]


def _first_year(plan: Plan) -> int | None:
    return plan.adopted_on.year if plan.adopted_on else None


def due_items(plan: Plan | None, year: int, today: date,
              measures: list[PlanMeasure] | None = None) -> list[Due]:
    """Due dates of `year` not yet met, and one-off deadlines of earlier years never met,
    soonest first."""
    if plan is None:
        return []
    measures = active_measures(plan) if measures is None else measures
    ids = [measure.id for measure in measures]
    rows = list(db.session.scalars(select(MeasureYear).where(
        MeasureYear.measure_id.in_(ids or [0])))) if ids else []
    done_years: dict[int, set[int]] = {}
    for row in rows:
        if row.status in DONE:
            done_years.setdefault(row.measure_id, set()).add(row.year)
    found = []
    for measure in measures:
        deadline = deadlines.parse(measure.deadline)
        met = done_years.get(measure.id, set())
        if deadline.kind == deadlines.ONCE:
            if not met and deadline.day.year <= year:
                found.append(Due(measure, deadline.day, deadline.day < today))
            continue
        if year in met:
            continue
        for day in deadline.due_dates(year, _first_year(plan)):
            found.append(Due(measure, day, day < today))
    return sorted(found, key=lambda due: (due.day, due.measure.code))

"""The annual evaluation (measure 1.7), filled from the workspace for the coordinator: each
measure in force in the year with its status, indicator values (computed ones marked, with
their source and period), evidence, progress, the degree of implementation and how it is
counted, and the measures introduced or revised. Laid out by app.documents.evaluation."""
from dataclasses import dataclass
from datetime import date

from flask_babel import format_date, gettext
from sqlalchemy import select

from ...documents.evaluation import AnnualEvaluation, IndicatorValue, MeasureEvaluation
from ...extensions import db
from ...models import (
    Change,
    Institution,
    MeasureStatus,
    MeasureVersion,
    Plan,
    PlanMeasure,
    StaffMember,
)
from ..indicators.periods import local_midnight_utc
from . import access, computed, editing, following
from . import evidence as plan_evidence
from .labels import STATUS
from .schedule import DONE

NOTHING = "—"


@dataclass(frozen=True)
class Share:
    implemented: int
    total: int
    method: str

    @property
    def percent(self) -> float:
        return round(100.0 * self.implemented / self.total, 1) if self.total else 0.0


def in_force(plan: Plan | None, year: int) -> list[PlanMeasure]:
    """The measures the year's evaluation covers: those of the plan as loaded, and those
    introduced before the year ended, unless retired before it ended."""
    if plan is None:
        return []
    end = local_midnight_utc(date(year + 1, 1, 1))
    introduced = dict(tuple(row) for row in db.session.execute(
        select(MeasureVersion.measure_id, MeasureVersion.changed_at)
        .join(PlanMeasure, PlanMeasure.id == MeasureVersion.measure_id)
        .where(PlanMeasure.plan_id == plan.id, MeasureVersion.change == Change.INTRODUCED))
        .all())
    return [measure for objective in plan.objectives for measure in objective.measures
            if (measure.retired_at is None or measure.retired_at >= end)
            and (measure.id not in introduced or introduced[measure.id] < end)]


def degree(plan: Plan | None, year: int) -> Share:
    measures = in_force(plan, year)
    rows = following.statuses([measure.id for measure in measures], year)
    done = sum(1 for measure in measures
               if measure.id in rows and rows[measure.id].status in DONE)
    method = gettext(
        "measures whose status for %(year)d is “%(implemented)s” or “%(ongoing)s”, divided by "
        "all %(total)d measures of the plan in force in %(year)d (retired ones not counted; a "
        "measure with no status counts as not started)", year=year,
        implemented=STATUS[MeasureStatus.IMPLEMENTED], ongoing=STATUS[MeasureStatus.ONGOING],
        total=len(measures))
    return Share(done, len(measures), method)


def _indicators(measure: PlanMeasure, facts: computed.Facts) -> list[IndicatorValue]:
    indicators = [item for item in measure.indicators if not item.retired]
    typed = following.typed_values(indicators, facts.year)
    values = []
    for item in indicators:
        if item.computed:
            figure = computed.compute(item.computed, facts)
            values.append(IndicatorValue(item.label, figure.value, True, figure.source))
        else:
            row = typed.get(item.id)
            values.append(IndicatorValue(item.label, row.value if row else NOTHING, False,
                                         None))
    return values


def _progress(measure: PlanMeasure, year: int) -> list[str]:
    return [f"{format_date(line.happened_on, 'dd.MM.yyyy')}: {line.text}"
            + (f" ({line.by})" if line.by else "")
            for line in following.progress(measure, year)]


def build(member: StaffMember, year: int) -> AnnualEvaluation | None:
    access.require_coordinator(member)
    following.check_year(year)
    plan = access.current_plan(member.institution_id)
    if plan is None:
        return None
    institution = db.session.get(Institution, member.institution_id)
    facts = computed.Facts(member.institution_id, year, plan)
    measures = in_force(plan, year)
    rows = following.statuses([measure.id for measure in measures], year)
    evaluated = []
    for measure in measures:
        row = rows.get(measure.id)
        status = row.status if row else MeasureStatus.NOT_STARTED
        evaluated.append(MeasureEvaluation(
            code=measure.code,
            objective=gettext("Objective %(n)d: %(title)s", n=measure.objective.number,
                              title=measure.objective.title),
            text=measure.text, status_label=str(STATUS[status]),
            reason=row.reason if row else None,
            indicators=_indicators(measure, facts),
            evidence=[item.name for item in plan_evidence.listed(measure.id, year)],
            progress=_progress(measure, year)))
    share = degree(plan, year)
    return AnnualEvaluation(
        institution=institution.name, year=year, plan_title=plan.title, measures=evaluated,
        implemented=share.implemented, total=share.total, degree_percent=share.percent,
        degree_method=share.method,
        introduced_or_revised=editing.changed_in_year(plan, year),
        new_risks=[gettext("%(activity)s: %(description)s (probability %(p)d × impact %(i)d)",
                           activity=risk.activity, description=risk.description,
                           p=risk.probability, i=risk.impact)
                   for risk in computed.risks_identified_in(member.institution_id,
                                                            facts.period)])

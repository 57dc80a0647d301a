"""The plan on the institution's public page (measure 1.4): its text, each measure's status
for the current year when the coordinator chose to show it, and the documents marked public.
Nothing else of the workspace (progress, typed values, who) is shown."""
from dataclasses import dataclass

from ...models import Institution, MeasureStatus, Plan, PlanMeasure
from ..localtime import local_today
from . import access, following
from . import evidence as plan_evidence
from .schedule import active_measures


@dataclass
class PublicPlan:
    plan: Plan
    year: int
    measures: list[PlanMeasure]
    statuses: dict[int, MeasureStatus] | None  # None: the coordinator shows no status
    documents: dict[int, list]


def published_plan(institution: Institution) -> PublicPlan | None:
    plan = access.current_plan(institution.id)
    if plan is None or not plan.published:
        return None
    year = local_today().year
    measures = active_measures(plan)
    statuses = None
    if plan.publish_status:
        rows = following.statuses([measure.id for measure in measures], year)
        statuses = {measure.id: rows[measure.id].status if measure.id in rows
                    else MeasureStatus.NOT_STARTED for measure in measures}
    documents = {measure.id: plan_evidence.listed(measure.id, public_only=True)
                 for measure in measures}
    return PublicPlan(plan, year, measures, statuses, documents)

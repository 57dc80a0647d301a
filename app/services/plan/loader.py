"""Storing a plan read from a data file (app.services.plan.data), or an empty one.

Each measure gets its first version, "loaded": the plan as adopted, which the evaluation does
not count as a measure introduced or revised."""
from ...extensions import db
from ...models import (
    Change,
    Institution,
    MeasureVersion,
    Plan,
    PlanIndicator,
    PlanMeasure,
    PlanObjective,
)
from ..audit import chain as audit
from .data import MeasureData, PlanData


def snapshot(measure: PlanMeasure) -> dict:
    """The measure as the plan would print it; versions keep this."""
    return {"code": measure.code, "text": measure.text, "footnote": measure.footnote,
            "indicators": [{"label": item.label, "kind": item.kind.value,
                            "computed": item.computed}
                           for item in measure.indicators if not item.retired],
            "risks": list(measure.risks), "sources": list(measure.sources),
            "deadline": measure.deadline, "responsible": list(measure.responsible),
            "budget": measure.budget, "retired": measure.retired_at is not None}


def fill_measure(measure: PlanMeasure, data: MeasureData) -> None:
    measure.code, measure.text, measure.footnote = data.code, data.text, data.footnote
    measure.risks, measure.sources = list(data.risks), list(data.sources)
    measure.responsible = list(data.responsible)
    measure.deadline, measure.budget = data.deadline, data.budget
    kept = {(item.label, item.kind, item.computed): item for item in measure.indicators}
    for item in measure.indicators:
        item.retired = True
    # An indicator whose label and kind are unchanged keeps its row, and so its values.
    for position, indicator in enumerate(data.indicators):
        row = kept.get((indicator.label, indicator.kind, indicator.computed))
        if row is None:
            row = PlanIndicator(label=indicator.label, kind=indicator.kind,
                                computed=indicator.computed)
            measure.indicators.append(row)
        row.position, row.retired = position, False


def record_version(measure: PlanMeasure, change: Change, by_staff_id: int | None,
                   changes: dict | None = None) -> MeasureVersion:
    db.session.flush()
    number = 1 + max((version.number for version in db.session.query(MeasureVersion)
                      .filter(MeasureVersion.measure_id == measure.id)), default=0)
    version = MeasureVersion(measure_id=measure.id, number=number, change=change,
                             changes=changes or {}, snapshot=snapshot(measure),
                             changed_by_staff_id=by_staff_id)
    db.session.add(version)
    return version


def store_plan(institution: Institution, data: PlanData, *, actor=None) -> Plan:
    """A new plan for the institution (it becomes the plan in force)."""
    plan = Plan(institution_id=institution.id, title=data.title, adopted_on=data.adopted_on)
    db.session.add(plan)
    db.session.flush()
    for objective_data in data.objectives:
        objective = PlanObjective(plan=plan, number=objective_data.number,
                                  title=objective_data.title)
        db.session.add(objective)
        db.session.flush()
        for position, measure_data in enumerate(objective_data.measures):
            measure = PlanMeasure(plan_id=plan.id, objective_id=objective.id,
                                  position=position)
            fill_measure(measure, measure_data)
            db.session.add(measure)
            db.session.flush()
            record_version(measure, Change.LOADED, actor.id if actor else None)
    db.session.flush()
    audit.record("plan_loaded", institution_id=institution.id, actor=actor,
                 detail={"plan_id": plan.id, "title": plan.title,
                         "measures": len(data.measures)})
    return plan


MAX_IMPORT_BYTES = 2 * 1024 * 1024
SHIPPED, IMPORT, EMPTY = "shipped", "import", "empty"


def start_plan(member, source: str, *, title: str | None = None, upload=None) -> Plan:
    """The coordinator starts the institution's plan: from the plan shipped with the portal
    (the communes' plans follow the ministry's model), from a YAML or CSV file with the plan's
    columns, or from nothing. It becomes the plan in force; earlier ones are kept."""
    from flask_babel import lazy_gettext as _l

    from . import access, data

    access.require_coordinator(member)
    institution = db.session.get(Institution, member.institution_id)
    title = " ".join((title or "").split()) or None
    if source == SHIPPED:
        plan_data = data.shipped()
    elif source == IMPORT:
        if upload is None or not getattr(upload, "filename", ""):
            raise data.PlanDataRefused(_l("Choose the YAML or CSV file of the plan."),
                                       field="upload")
        raw = upload.stream.read(MAX_IMPORT_BYTES + 1)
        if len(raw) > MAX_IMPORT_BYTES:
            raise data.PlanDataRefused(_l("The file is larger than 2 MB."), field="upload")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise data.PlanDataRefused(_l("The file must be UTF-8 text."),
                                       field="upload") from error
        if upload.filename.lower().endswith(".csv"):
            plan_data = data.from_csv(text, title=title or upload.filename.rsplit(".", 1)[0])
        else:
            plan_data = data.from_yaml(text)
    else:
        if not title:
            raise data.PlanDataRefused(_l("Give the plan's title."), field="title")
        return empty_plan(institution, title, actor=member)
    if title:
        plan_data.title = title
    return store_plan(institution, plan_data, actor=member)


def empty_plan(institution: Institution, title: str, *, actor=None) -> Plan:
    """A plan from nothing: the coordinator adds its objectives' measures one by one."""
    return store_plan(institution, PlanData(title=title, adopted_on=None), actor=actor)

"""Views of the plan workspace: parse the request, call one service, render. The services
check the role again (app.services.plan.access)."""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..auth.session import staff_view
from ..documents import evaluation as documents
from ..downloads import attachment_header, file_download
from ..form_errors import show_error
from ..models import MeasureStatus, Plan, Role
from ..services.errors import DomainError, EvidenceUnavailable
from ..services.localtime import local_today
from ..services.plan import editing, evaluation, following, open_data
from ..services.plan import evidence as plan_evidence
from ..services.plan import workspace as plan_workspace
from ..services.plan.access import PlanNotFound, measure_for, plan_for, require_coordinator
from ..services.plan.data import indicator_from_line, indicator_line
from ..services.plan.deadlines import ONCE
from ..services.plan.labels import CHANGE, INDICATOR_KIND, STATUS
from ..services.plan.loader import start_plan
from ..services.transaction import unit_of_work
from . import bp
from .forms import (
    ConfirmForm,
    EvidenceForm,
    MeasureForm,
    OpenDataForm,
    ProgressForm,
    PublicationForm,
    StartForm,
    StatusForm,
    VisibilityForm,
)

READERS = (Role.COORDINATOR, Role.PLAN_CONTRIBUTOR)



def _year() -> int:
    year = request.args.get("year", type=int) or request.form.get("year", type=int)
    today = local_today().year
    return year if year and 2000 <= year <= today + 1 else today


def _labels() -> dict:
    return {"status_label": STATUS.get, "kind_label": INDICATOR_KIND.get, "ONCE": ONCE,
            "change_label": CHANGE.get,
            "MeasureStatus": MeasureStatus}


@bp.route("")
@staff_view(*READERS)
def workspace(access):
    year = _year()
    with unit_of_work():  # rendered inside: the rows stay loaded until the page is written
        view = plan_workspace.overview(access.member, year)
        publication = PublicationForm(obj=view.plan) if view.plan is not None else None
        return render_template("plan/workspace.html", view=view, today=local_today(),
                               years=range(local_today().year + 1, 2019, -1),
                               publication=publication, **_labels())


def _render_measure(member, measure_id: int, year: int, status_code: int = 200, **forms):
    with unit_of_work():
        try:
            page = plan_workspace.measure_page(member, measure_id, year)
        except PlanNotFound:
            abort(404)
        status_form = forms.get("status_form") or StatusForm(
            status=(page.status.status.value if page.status else None),
            reason=page.status.reason if page.status else None)
        progress_form = forms.get("progress_form") or ProgressForm(happened_on=local_today())
        return render_template(
            "plan/measure.html", page=page, status_form=status_form,
            progress_form=progress_form, values_form=forms.get("values_form") or ConfirmForm(),
            value_errors=forms.get("value_errors", {}), typed=forms.get("typed", {}),
            evidence_form=forms.get("evidence_form") or EvidenceForm(),
            visibility_form=VisibilityForm(), retire_form=ConfirmForm(),
            years=range(local_today().year + 1, 2019, -1), **_labels()), status_code


@bp.route("/measures/<int:measure_id>")
@staff_view(*READERS)
def measure(access, measure_id: int):
    return _render_measure(access.member, measure_id, _year())


def _done(measure_id: int, year: int, message):
    flash(message)
    return redirect(url_for(".measure", measure_id=measure_id, year=year))


@bp.route("/measures/<int:measure_id>/status", methods=["POST"])
@staff_view(*READERS)
def measure_status(access, measure_id: int):
    year, form = _year(), StatusForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                following.set_status(access.member, measure_id, year,
                                     MeasureStatus(form.status.data), form.reason.data)
            return _done(measure_id, year, _l("The status is saved."))
        except PlanNotFound:
            abort(404)
        except DomainError as error:
            show_error(form, error)
    return _render_measure(access.member, measure_id, year, 400, status_form=form)


@bp.route("/measures/<int:measure_id>/progress", methods=["POST"])
@staff_view(*READERS)
def measure_progress(access, measure_id: int):
    year, form = _year(), ProgressForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                following.add_progress(access.member, measure_id, year, form.happened_on.data,
                                       form.text.data)
            return _done(measure_id, year, _l("The progress entry is saved."))
        except PlanNotFound:
            abort(404)
        except DomainError as error:
            show_error(form, error)
    return _render_measure(access.member, measure_id, year, 400, progress_form=form)


@bp.route("/measures/<int:measure_id>/values", methods=["POST"])
@staff_view(*READERS)
def measure_values(access, measure_id: int):
    year, form = _year(), ConfirmForm()
    typed = {int(name.removeprefix("value_")): value for name, value in request.form.items()
             if name.startswith("value_") and name.removeprefix("value_").isdigit()}
    errors = {}
    if form.validate_on_submit():
        try:
            with unit_of_work():
                following.set_values(access.member, measure_id, year, typed)
            return _done(measure_id, year, _l("The values are saved."))
        except PlanNotFound:
            abort(404)
        except DomainError as error:
            errors[error.field] = error.message
    return _render_measure(access.member, measure_id, year, 400, values_form=form, value_errors=errors,
                           typed=typed)


@bp.route("/measures/<int:measure_id>/evidence", methods=["POST"])
@staff_view(*READERS)
def measure_evidence(access, measure_id: int):
    year, form = _year(), EvidenceForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                added = plan_evidence.add_evidence(access.member, measure_id, year,
                                                   request.files.getlist("files"),
                                                   public=form.public.data)
            if added:
                return _done(measure_id, year, _l("The documents are saved."))
            form.files.errors.append(_l("Choose at least one file."))
        except PlanNotFound:
            abort(404)
        except DomainError as error:
            form.files.errors.append(error.message)
    return _render_measure(access.member, measure_id, year, 400, evidence_form=form)


@bp.route("/evidence/<int:evidence_id>")
@staff_view(*READERS)
def evidence_download(access, evidence_id: int):
    try:
        with unit_of_work():
            chunks, name, size = plan_evidence.download(access.member, evidence_id)
    except PlanNotFound:
        abort(404)
    except EvidenceUnavailable as error:
        return render_template("errors/error.html", message=error.message), 410
    return file_download(chunks, name, size)


@bp.route("/evidence/<int:evidence_id>/visibility", methods=["POST"])
@staff_view(Role.COORDINATOR)
def evidence_visibility(access, evidence_id: int):
    form = VisibilityForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            plan_evidence.set_public(access.member, evidence_id, form.public.data)
    except PlanNotFound:
        abort(404)
    flash(_l("The document is public.") if form.public.data else
          _l("The document is no longer public."))
    return redirect(request.referrer or url_for(".workspace"))


# --- editing the plan -------------------------------------------------------------------------

def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _raw(form: MeasureForm) -> dict:
    return {"code": form.code.data, "text": form.text.data,
            "indicators": [indicator_from_line(line) for line in _lines(form.indicators.data)],
            "risks": _lines(form.risks.data), "sources": _lines(form.sources.data),
            "deadline": form.deadline.data, "responsible": _lines(form.responsible.data),
            "budget": form.budget.data}


def _fill(form: MeasureForm, measure) -> None:
    form.objective_number.data = measure.objective.number
    form.code.data, form.text.data = measure.code, measure.text
    form.indicators.data = "\n".join(indicator_line(item.label, item.kind, item.computed)
                                     for item in measure.indicators if not item.retired)
    form.risks.data, form.sources.data = "\n".join(measure.risks), "\n".join(measure.sources)
    form.deadline.data, form.budget.data = measure.deadline, measure.budget
    form.responsible.data = "\n".join(measure.responsible)
    form.assignees.data = [member.id for member in editing.assignees(measure)]


@bp.route("/measures/new", methods=["GET", "POST"])
@staff_view(Role.COORDINATOR)
def measure_new(access):
    form = MeasureForm()
    with unit_of_work():
        form.assignees.choices = [(m.id, m.name) for m in editing.eligible_assignees(access.member)]
    if form.validate_on_submit():
        try:
            with unit_of_work():
                created = editing.add_measure(access.member, form.objective_number.data, _raw(form),
                                              form.objective_title.data)
                editing.assign(access.member, created.id, form.assignees.data or [])
                measure_id = created.id
            return _done(measure_id, _year(), _l("The measure is added to the plan."))
        except DomainError as error:
            show_error(form, error)
    status = 400 if form.is_submitted() else 200
    return render_template("plan/measure_form.html", form=form, measure=None), status


@bp.route("/measures/<int:measure_id>/edit", methods=["GET", "POST"])
@staff_view(Role.COORDINATOR)
def measure_edit(access, measure_id: int):
    form = MeasureForm()
    with unit_of_work():
        form.assignees.choices = [(m.id, m.name) for m in editing.eligible_assignees(access.member)]
        try:
            current = measure_for(access.member, measure_id)
        except PlanNotFound:
            abort(404)
        if request.method == "GET":
            _fill(form, current)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                editing.revise_measure(access.member, measure_id, _raw(form))
                editing.assign(access.member, measure_id, form.assignees.data or [])
            return _done(measure_id, _year(), _l("The measure is revised; the previous "
                                                 "version is kept."))
        except DomainError as error:
            show_error(form, error)
    with unit_of_work():
        current = measure_for(access.member, measure_id)
        status = 400 if form.is_submitted() else 200
        return render_template("plan/measure_form.html", form=form, measure=current), status


@bp.route("/measures/<int:measure_id>/retire", methods=["POST"])
@staff_view(Role.COORDINATOR)
def measure_retire(access, measure_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            editing.retire_measure(access.member, measure_id)
    except PlanNotFound:
        abort(404)
    flash(_l("The measure is retired from the plan; its history is kept."))
    return redirect(url_for(".workspace"))


@bp.route("/publication", methods=["POST"])
@staff_view(Role.COORDINATOR)
def publication(access):
    form = PublicationForm()
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work():
        plan: Plan | None = plan_for(access.member)
        require_coordinator(access.member)
        if plan is None:
            abort(404)
        plan.published, plan.publish_status = form.published.data, form.publish_status.data
    flash(_l("The plan is published on the public page.") if form.published.data
          else _l("The plan is not on the public page."))
    return redirect(url_for(".workspace"))


@bp.route("/start", methods=["GET", "POST"])
@staff_view(Role.COORDINATOR)
def start(access):
    form = StartForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                started = start_plan(access.member, form.source.data, title=form.title.data,
                                     upload=request.files.get("upload"))
                title = started.title
            flash(_l("The plan “%(title)s” is the plan in force.", title=title))
            return redirect(url_for(".workspace"))
        except DomainError as error:
            show_error(form, error)
    return render_template("plan/start.html", form=form), 400 if form.is_submitted() else 200


# --- open data (measure 3.2) ------------------------------------------------------------------

@bp.route("/open-data", methods=["GET", "POST"])
@staff_view(Role.COORDINATOR)
def open_data_page(access):
    form = OpenDataForm()
    if request.method == "GET":
        form.published_on.data = local_today()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                open_data.record(access.member, form.title.data, form.url.data,
                                 form.published_on.data)
            flash(_l("The publication is recorded."))
            return redirect(url_for(".open_data_page"))
        except DomainError as error:
            show_error(form, error)
    with unit_of_work():
        return render_template("plan/open_data.html", form=form,
                               items=open_data.listed(access.member)), \
            400 if form.is_submitted() else 200


# --- the annual evaluation (measure 1.7) ------------------------------------------------------

def _evaluation(member, year: int):
    evaluated = evaluation.build(member, year)
    if evaluated is None:
        abort(404)
    return evaluated


@bp.route("/evaluation/<int:year>")
@staff_view(Role.COORDINATOR)
def evaluation_page(access, year: int):
    try:
        with unit_of_work():
            evaluated = _evaluation(access.member, year)
    except DomainError:
        abort(404)
    return render_template("plan/evaluation.html", e=evaluated,
                           years=range(local_today().year, 2019, -1))


MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


@bp.route("/evaluation/<int:year>.<any(csv, docx, pdf):kind>")
@staff_view(Role.COORDINATOR)
def evaluation_file(access, year: int, kind: str):
    """The file sent to the ministry: in Romanian, whatever the page's language."""
    try:
        with unit_of_work(), force_locale("ro"):
            evaluated = _evaluation(access.member, year)
    except DomainError:
        abort(404)
    if kind == "csv":
        body = ("\ufeff" + documents.evaluation_csv(evaluated)).encode("utf-8")
    elif kind == "docx":
        body = documents.evaluation_docx(evaluated)
    else:
        body = documents.evaluation_pdf(evaluated)
    response = Response(body, mimetype=MIMETYPES[kind])
    response.headers["Content-Disposition"] = attachment_header(
        f"evaluare-plan-integritate-{year}.{kind}")
    return response

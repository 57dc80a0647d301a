"""Register views: parse the request, call one service, render. The services check the role
(app.services.access.guards.require_role); nothing here reads a case."""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from ..auth.session import staff_view
from ..documents.to_docx import render_docx
from ..documents.to_pdf import render_pdf
from ..downloads import attachment_header
from ..extensions import db
from ..form_errors import show_error
from ..labels import CATEGORY
from ..models import Category, Institution, Role
from ..services.errors import DomainError
from ..services.indicators.periods import EARLIEST_YEAR, Period, local_today
from ..services.risks import prompts, register
from ..services.risks.scoring import HIGH_MIN, LOW_MAX, MEDIUM_MAX, risk_class, score
from ..services.transaction import unit_of_work
from . import bp
from .documents import remediation_document
from .forms import RiskForm
from .labels import CLASS, STATUS

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"



def _year() -> int:
    year = request.args.get("year", type=int) or local_today().year
    return year if EARLIEST_YEAR <= year <= local_today().year + 1 else local_today().year


def _years() -> range:
    return range(local_today().year, EARLIEST_YEAR - 1, -1)


def _helpers() -> dict:
    return {"status_label": STATUS, "class_label": CLASS, "category_label": CATEGORY,
            "score": score, "risk_class": risk_class, "low_max": LOW_MAX,
            "medium_max": MEDIUM_MAX, "high_min": HIGH_MIN}


@bp.route("/risks", endpoint="register")
@staff_view(Role.COORDINATOR)
def register_page(access):
    year = _year()
    with unit_of_work():  # rendered inside: the rows stay loaded until the page is written
        return render_template(
            "risks/register.html", year=year, years=_years(),
            risks=register.risks(access.member),
            review_prompts=prompts.review_prompts(access.member, Period.year(year)), **_helpers())



def _save(member, form: RiskForm, risk_id: int | None):
    if not form.validate_on_submit():
        return None
    try:
        with unit_of_work():
            if risk_id is None:
                risk = register.add(member, form.entry())
            else:
                risk = register.update(member, risk_id, form.entry())
            year = risk.identified_on.year
    except register.RiskNotFound:
        abort(404)
    except DomainError as error:
        show_error(form, error)
        return None
    flash(_l("The risk is saved.") if risk_id is None else _l("The changes are saved."))
    # Back to the year the risk belongs to, where the prompt that led here is shown.
    return redirect(url_for(".register", year=year))


@bp.route("/risks/new", methods=["GET", "POST"])
@staff_view(Role.COORDINATOR)
def risk_new(access):
    form = RiskForm()
    if request.method == "GET":
        form.identified_on.data = local_today()
        area = request.args.get("area")
        if area in {c.value for c in Category}:
            form.area.data = area
    done = _save(access.member, form, None)
    if done is not None:
        return done
    return render_template("risks/form.html", form=form, risk=None, **_helpers()), \
        400 if form.is_submitted() else 200


@bp.route("/risks/<int:risk_id>/edit", methods=["GET", "POST"])
@staff_view(Role.COORDINATOR)
def risk_edit(access, risk_id: int):
    try:
        risk = register.get(access.member, risk_id)
    except register.RiskNotFound:
        abort(404)
    form = RiskForm()
    if request.method == "GET":
        form.fill(risk)
    done = _save(access.member, form, risk_id)
    if done is not None:
        return done
    return render_template("risks/form.html", form=form, risk=risk, **_helpers()), \
        400 if form.is_submitted() else 200


def _institution_name(member) -> str:
    return db.session.get(Institution, member.institution_id).name


@bp.route("/risks/remediation")
@staff_view(Role.COORDINATOR)
def remediation(access):
    year = _year()
    with unit_of_work():
        return render_template(
            "risks/remediation.html", year=year, years=_years(),
            risks=register.risks_in(access.member, Period.year(year)), **_helpers())


@bp.route("/risks/remediation.<any(docx, pdf):kind>")
@staff_view(Role.COORDINATOR)
def remediation_file(access, kind: str):
    year = _year()
    with unit_of_work():
        document = remediation_document(
            _institution_name(access.member), Period.year(year),
            register.risks_in(access.member, Period.year(year)))
    body, mimetype = (render_docx(document), DOCX_TYPE) if kind == "docx" \
        else (render_pdf(document), "application/pdf")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = attachment_header(f"anexa-c-{year}.{kind}")
    response.headers["Cache-Control"] = "no-store"
    return response

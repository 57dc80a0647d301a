"""Self-assessment views: the year's sheet (one answer and note per item), the files. The
services check the role again."""
from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from ..auth.session import staff_view
from ..documents.to_docx import render_docx
from ..documents.to_pdf import render_pdf
from ..downloads import attachment_header
from ..extensions import db
from ..models import Answer, Institution, Role
from ..services.errors import DomainError
from ..services.indicators.periods import EARLIEST_YEAR, local_today
from ..services.selfassessment import answers
from ..services.selfassessment.inventory import inventory
from ..services.transaction import unit_of_work
from . import bp
from .documents import self_assessment_document

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ANSWER_LABEL = {
    Answer.IMPLEMENTED: _l("Implemented"),
    Answer.PARTIAL: _l("Partially implemented"),
    Answer.NOT_IMPLEMENTED: _l("Not implemented"),
    Answer.NOT_APPLICABLE: _l("Not applicable"),
}



def _year() -> int:
    year = request.args.get("year", type=int) or local_today().year
    return year if EARLIEST_YEAR <= year <= local_today().year + 1 else local_today().year


def _read_sheet(items) -> tuple[dict, dict]:
    """(item code → Given, field → error) from the posted sheet."""
    given, errors = {}, {}
    for item in items:
        raw = request.form.get(f"answer-{item.code}", "")
        note = request.form.get(f"note-{item.code}", "")
        if raw and raw not in {a.value for a in Answer}:
            errors[f"answer-{item.code}"] = _l("Choose one of the answers offered.")
            continue
        given[item.code] = answers.Given(Answer(raw) if raw else None, note)
    return given, errors


@bp.route("/self-assessment", methods=["GET", "POST"])
@staff_view(Role.COORDINATOR)
def sheet(access):
    year, shown = _year(), inventory()
    form = FlaskForm()  # the CSRF token; the items are read from request.form
    errors, refused = {}, None
    if request.method == "POST" and form.validate_on_submit():
        given, errors = _read_sheet(shown.items)
        if not errors:
            try:
                with unit_of_work():
                    answers.save(access.member, shown, year, given)
                flash(_l("The self-assessment is saved."))
                return redirect(url_for(".sheet", year=year))
            except DomainError as error:
                refused = error.message
                if error.field:
                    errors[error.field] = error.message
    elif request.method == "POST":
        refused = _l("The form expired. Please send it again.")
    with unit_of_work():
        saved = answers.answers(access.member, shown, year)
    posted = request.form if request.method == "POST" else None
    return render_template(
        "selfassessment/sheet.html", year=year, years=range(local_today().year,
                                                            EARLIEST_YEAR - 1, -1),
        inventory=shown, saved=saved, posted=posted, errors=errors, refused=refused,
        form=form, answer_label=ANSWER_LABEL, max_note=answers.MAX_NOTE), \
        400 if request.method == "POST" else 200


@bp.route("/self-assessment.<any(docx, pdf):kind>")
@staff_view(Role.COORDINATOR)
def sheet_file(access, kind: str):
    year, shown = _year(), inventory()
    with unit_of_work():
        given = answers.answers(access.member, shown, year)
        name = db.session.get(Institution, access.member.institution_id).name
    document = self_assessment_document(name, shown, year, given)
    body, mimetype = (render_docx(document), DOCX_TYPE) if kind == "docx" \
        else (render_pdf(document), "application/pdf")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = attachment_header(f"autoevaluare-{year}.{kind}")
    response.headers["Cache-Control"] = "no-store"
    return response

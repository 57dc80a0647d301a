"""Citizen pages. Views parse the form, call one service and render; rules live in services."""
from datetime import timedelta

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from ..crypto.kdf import KdfParams
from ..extensions import limiter
from ..models import Category
from ..services import followup, intake, receipts, settings, staff
from ..services.errors import DomainError, InvalidReceipt, SessionExpired
from ..services.evidence import prepare_evidence
from ..services.institutions import default_institution
from ..services.transaction import unit_of_work
from . import bp
from .forms import LogoutForm, ReceiptLoginForm, ReporterMessageForm, ReportForm

FOLLOWUP_COOKIE = "avertizor_followup"


def _institution():
    institution = default_institution()
    if institution is None:
        abort(503)
    return institution


def _kdf_params() -> KdfParams:
    return KdfParams.from_config(current_app.config)


def _idle() -> timedelta:
    return timedelta(minutes=current_app.config["REPORTER_SESSION_IDLE_MINUTES"])


@bp.route("/")
def index():
    return render_template("public/index.html", institution=default_institution())


@bp.route("/privacy")
def privacy():
    return render_template("public/privacy.html", institution=default_institution())


def _report_form(institution) -> ReportForm:
    form = ReportForm()
    form.category.choices = settings.report_category_choices(institution)
    # With a single designated person there is nobody else to read the report: no exclusion.
    form.excluded.choices = [SelectChoice(member.id, member.name)
                             for member in intake.exclusion_choices(institution)]
    return form


def _files_not_kept(form: ReportForm) -> None:
    """A refused form cannot give the chosen files back: say so beside the field."""
    names = [item.filename for item in (form.evidence.data or [])
             if getattr(item, "filename", None)]
    if names:
        form.evidence.errors = list(form.evidence.errors) + [
            _l("Your files were not kept because the form had to be corrected: please attach "
               "them again before sending (%(names)s).", names=", ".join(names))]


@bp.route("/report", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"], methods=["POST"])
def report():
    institution = _institution()
    form = _report_form(institution)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                evidence = prepare_evidence(form.evidence.data or [])
                submitted = intake.submit_report(
                    institution, _report_from(form), evidence, _kdf_params())
        except DomainError as error:
            (getattr(form, error.field).errors if error.field else form.form_errors).append(
                error.message)
        else:
            # The receipt is rendered into this response only: no redirect, no URL, no session.
            return render_template("public/receipt.html", reference=submitted.reference,
                                   receipt=receipts.display(submitted.receipt))
    if form.is_submitted():
        _files_not_kept(form)
    status = 400 if form.is_submitted() else 200
    return render_template("public/report.html", form=form, institution=institution,
                           handler_count=len(staff.handlers(institution.id)),
                           external_channel=intake.EXTERNAL_CHANNEL_URL), status


def _report_from(form: ReportForm) -> intake.Report:
    identified = form.identity_choice.data == "identified"
    return intake.Report(
        category=Category(form.category.data),
        what_happened=form.what_happened.data.strip(),
        when_where=(form.when_where.data or "").strip(),
        persons_involved=(form.persons_involved.data or "").strip(),
        how_known=(form.how_known.data or "").strip(),
        work_context=form.work_context.data == "yes",
        anonymous=not identified,
        name=(form.name.data or "").strip() if identified else "",
        email=(form.email.data or "").strip() if identified else "",
        phone=(form.phone.data or "").strip() if identified else "",
        excluded_staff_ids=set(form.excluded.data or []),
        language=str(get_locale()),
    )


def _set_followup_cookie(response, value: str):
    response.set_cookie(
        FOLLOWUP_COOKIE, value, path="/follow-up", httponly=True, samesite="Strict",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        max_age=current_app.config["REPORTER_SESSION_MAX_MINUTES"] * 60)
    return response


@bp.route("/follow-up", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_RECEIPT_LOGIN"], methods=["POST"])
def followup_login():
    institution = _institution()
    form = ReceiptLoginForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                cookie = followup.log_in(
                    institution, form.receipt.data, kdf_params=_kdf_params(), idle=_idle(),
                    lifetime=timedelta(minutes=current_app.config["REPORTER_SESSION_MAX_MINUTES"]))
        except InvalidReceipt as error:
            form.receipt.errors.append(error.message)
        else:
            return _set_followup_cookie(redirect(url_for(".followup_case")), cookie)
    form.receipt.data = ""  # a receipt is never echoed back
    status = 400 if form.is_submitted() else 200
    return render_template("public/followup_login.html", form=form), status


def _reporter_access():
    return followup.resume(request.cookies.get(FOLLOWUP_COOKIE), idle=_idle())


def _back_to_login(error: SessionExpired):
    form = ReceiptLoginForm(formdata=None)
    form.form_errors.append(error.message)
    response = make_response(render_template("public/followup_login.html", form=form), 401)
    response.delete_cookie(FOLLOWUP_COOKIE, path="/follow-up")
    return response


def _render_case(access, message_form, status=200):
    view = followup.read_case(access)
    return render_template("public/followup_case.html", view=view, form=message_form,
                           logout_form=LogoutForm(), sent=request.args.get("sent")), status


@bp.route("/follow-up/case")
def followup_case():
    try:
        with unit_of_work():
            return _render_case(_reporter_access(), ReporterMessageForm(formdata=None))
    except SessionExpired as error:
        return _back_to_login(error)


@bp.route("/follow-up/message", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"])
def followup_message():
    form = ReporterMessageForm()
    try:
        with unit_of_work():
            access = _reporter_access()
            if form.validate_on_submit():
                evidence = prepare_evidence(form.evidence.data or [])
                followup.send_message(access, form.body.data.strip(), evidence)
                return redirect(url_for(".followup_case", sent=1))
    except SessionExpired as error:
        return _back_to_login(error)
    except DomainError as error:
        (getattr(form, error.field).errors if error.field else form.form_errors).append(
            error.message)
    with unit_of_work():
        return _render_case(_reporter_access(), form, status=400)


@bp.route("/follow-up/logout", methods=["POST"])
def followup_logout():
    with unit_of_work():
        followup.log_out(request.cookies.get(FOLLOWUP_COOKIE))
    response = redirect(url_for(".index", logged_out=1))
    response.delete_cookie(FOLLOWUP_COOKIE, path="/follow-up")
    return response


# --- transparency: the integrity indicators for everyone, small counts suppressed ----------------

@bp.route("/transparency")
def transparency():
    from ..stats.public import public_years, tables, year_views

    institution = _institution()
    years = sorted(public_years(institution))
    views = year_views(institution, years)
    return render_template("public/transparency.html", institution=institution, years=years,
                           tables=tables(views), threshold=views[0].threshold if views else None)


@bp.route("/transparency/<int:year>.<any(csv, json):kind>")
@bp.route("/transparency/<int:year>-metadata.json", defaults={"kind": "metadata"})
def transparency_data(year: int, kind: str):
    """The open-data files of a completed year: the same suppressed figures as the page."""
    from ..services import exports
    from ..stats.public import public_years, year_view

    institution = _institution()
    if year not in public_years(institution):
        abort(404)
    made = exports.public_file(institution, year_view(institution, year), kind)
    response = make_response(made.body)
    response.mimetype = made.mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    return response

"""Citizen pages. Views parse the form, call one service and render; rules live in services."""
from datetime import timedelta

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from .. import CONTENT_SECURITY_POLICY, SECURITY_HEADERS, tenancy
from ..downloads import file_download
from ..extensions import limiter
from ..form_errors import show_error
from ..models import Category
from ..services.casework import meetings
from ..services.errors import (
    DomainError,
    EvidenceUnavailable,
    InvalidReceipt,
    NotAuthorised,
    SessionExpired,
)
from ..services.intake import followup, held_files, receipts, voice
from ..services.intake import submit as intake
from ..services.intake.evidence import prepare_evidence, safe_filename
from ..services.intake.slip import receipt_slip
from ..services.kdf import kdf_params
from ..services.operations import settings
from ..services.staff import directory
from ..services.transaction import unit_of_work
from . import bp
from .forms import LogoutForm, MeetingForm, ReceiptLoginForm, ReporterMessageForm, ReportForm
from .portal import portal_home

FOLLOWUP_COOKIE = "avertizor_followup"
# Evidence kept encrypted across a refused report form (see services.intake.held_files).
HELD_COOKIE = "avertizor_held"


# The pages with a voice recorder (app/static/js/voice.js) may use this origin's microphone
# and play the recording from a blob: URL; every other page keeps both off.
RECORDING_CSP = CONTENT_SECURITY_POLICY.replace("default-src 'self';",
                                                "default-src 'self'; media-src 'self' blob:;")
RECORDING_PERMISSIONS = SECURITY_HEADERS["Permissions-Policy"].replace(
    "microphone=()", "microphone=(self)")


def _may_record(response):
    response.headers["Content-Security-Policy"] = RECORDING_CSP
    response.headers["Permissions-Policy"] = RECORDING_PERMISSIONS
    return response


def _institution():
    return tenancy.public_institution()


def _cookie_path(path: str) -> str:
    """Cookies stay with the pages of the institution that set them."""
    return request.script_root + path


def _idle() -> timedelta:
    return timedelta(minutes=current_app.config["REPORTER_SESSION_IDLE_MINUTES"])


@bp.route("/")
def index():
    institution = tenancy.current_institution()
    if tenancy.under_unknown_prefix():
        abort(404)
    if institution is None and tenancy.is_shared_deployment():
        return portal_home()
    return render_template("public/index.html")  # the page's institution: its profile


@bp.route("/logo.png")
def logo():
    """The institution's logo, as re-encoded on upload (services/operations/profile.py)."""
    institution = _institution()
    if not institution.logo:
        abort(404)
    response = make_response(institution.logo)
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/privacy")
def privacy():
    tenancy.page_institution()  # the finder, or 404, when the page names no institution
    return render_template("public/privacy.html")


def _report_form(institution) -> ReportForm:
    form = ReportForm()
    form.category.choices = settings.report_category_choices(institution)
    # With a single designated person there is nobody else to read the report: no exclusion.
    form.excluded.choices = [SelectChoice(member.id, member.name)
                             for member in intake.exclusion_choices(institution)]
    return form


def _files_not_kept(form: ReportForm) -> None:
    """Files that could not be kept (refused, or over the limits): say so beside the field."""
    names = [item.filename for item in form.uploads() if getattr(item, "filename", None)]
    if names:
        form.evidence.errors = list(form.evidence.errors) + [
            _l("Your files were not kept because the form had to be corrected: please attach "
               "them again before sending (%(names)s).", names=", ".join(names))]


def _keep_for_correction(form: ReportForm, held: list) -> held_files.Held | None:
    """A refused form: keep the files already held and the newly chosen ones (checked and
    cleaned like any evidence), encrypted under a key only the reporter's cookie holds."""
    try:
        new = prepare_evidence(form.uploads(), disguise_voice=form.disguise_voice())
        held_files.check_together(held, new)
    except DomainError as error:
        if error.field == "evidence" and error.message not in form.evidence.errors:
            show_error(form, error)
        _files_not_kept(form)
        new = []
    return held_files.hold(held + new)


def _with_held_cookie(response, kept: held_files.Held | None):
    if kept is None:
        if HELD_COOKIE in request.cookies:
            response.delete_cookie(HELD_COOKIE, path=_cookie_path("/report"))
    else:
        response.set_cookie(HELD_COOKIE, kept.cookie, path=_cookie_path("/report"), httponly=True,
                            samesite="Strict", secure=current_app.config["SESSION_COOKIE_SECURE"],
                            max_age=held_files.HOLD_MINUTES * 60)
    return response


@bp.route("/report", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"], methods=["POST"])
def report():
    institution = _institution()
    if institution.suspended_at is not None:
        # The operator suspended its channel: no form, and a POST sent from a page opened
        # earlier is refused before anything of it is read. Following up keeps working.
        status = 403 if request.method == "POST" else 200
        return render_template("public/report_suspended.html", institution=institution,
                               refused=request.method == "POST"), status
    form = _report_form(institution)
    held_cookie = request.cookies.get(HELD_COOKIE)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                held = held_files.take(held_cookie) if form.keep_held.data else []
                evidence = prepare_evidence(form.uploads(),
                                            disguise_voice=form.disguise_voice())
                held_files.check_together(held, evidence)
                submitted = intake.submit_report(
                    institution, _report_from(form), held + evidence)
                held_files.take(held_cookie)  # not to be sent: forget them too
                held_files.sweep()
        except DomainError as error:
            show_error(form, error)
        else:
            # The receipt is rendered into this response only: no redirect, no URL, no session.
            return _with_held_cookie(make_response(render_template(
                "public/receipt.html", reference=submitted.reference,
                receipt=receipts.display(submitted.receipt),
                slip=receipt_slip(submitted))), None)
    # Refused, or a fresh form: what an earlier attempt held is taken (a fresh form, or one
    # sent without "send the kept files", forgets it); a refusal holds its files again under
    # a new cookie.
    with unit_of_work():
        held = held_files.take(held_cookie)
        if not (form.is_submitted() and form.keep_held.data):
            held = []
        kept = _keep_for_correction(form, held) if form.is_submitted() else None
    form.keep_held.data = True
    status = 400 if form.is_submitted() else 200
    response = make_response(render_template(
        "public/report.html", form=form, institution=institution,
        held_names=kept.names if kept else [], hold_minutes=held_files.HOLD_MINUTES,
        handler_count=len(directory.handlers(institution.id)),
        external_channel=intake.EXTERNAL_CHANNEL_URL), status)
    return _may_record(_with_held_cookie(response, kept))


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
        meeting=meetings.MeetingRequest(way=form.meeting_way.data,
                                        days=(form.meeting_days.data or "").strip())
        if form.meeting_wanted.data else None,
    )


def _set_followup_cookie(response, value: str):
    response.set_cookie(
        FOLLOWUP_COOKIE, value, path=_cookie_path("/follow-up"), httponly=True, samesite="Strict",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        max_age=current_app.config["REPORTER_SESSION_MAX_MINUTES"] * 60)
    return response


@bp.route("/voice/preview", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_VOICE_PREVIEW"])
def voice_preview():
    """The disguised version of a recording, for the reporter to hear before sending: the
    processing a stored voice message gets, returned and forgotten (nothing stored, the body
    never logged). CSRF-checked like every POST."""
    upload = request.files.get("recording")
    if upload is None or not upload.filename:
        abort(400)
    try:
        disguised = voice.preview(upload.stream.read(), name=safe_filename(upload.filename))
    except DomainError as error:
        return make_response(str(error.message), 400, {"Content-Type": "text/plain; charset=utf-8"})
    return make_response(disguised, 200, {"Content-Type": voice.OPUS_MIMETYPE})


@bp.route("/follow-up", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_RECEIPT_LOGIN"], methods=["POST"])
def followup_login():
    institution = _institution()
    form = ReceiptLoginForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                cookie = followup.log_in(
                    institution, form.receipt.data, kdf_params=kdf_params(), idle=_idle(),
                    lifetime=timedelta(minutes=current_app.config["REPORTER_SESSION_MAX_MINUTES"]))
        except InvalidReceipt as error:
            form.receipt.errors.append(error.message)
        else:
            return _set_followup_cookie(redirect(url_for(".followup_case")), cookie)
    form.receipt.data = ""  # a receipt is never echoed back
    status = 400 if form.is_submitted() else 200
    return render_template("public/followup_login.html", form=form), status


def _reporter_access():
    return followup.resume(request.cookies.get(FOLLOWUP_COOKIE), idle=_idle(),
                           institution=_institution())


def _back_to_login(error: SessionExpired):
    form = ReceiptLoginForm(formdata=None)
    form.form_errors.append(error.message)
    response = make_response(render_template("public/followup_login.html", form=form), 401)
    response.delete_cookie(FOLLOWUP_COOKIE, path=_cookie_path("/follow-up"))
    return response


def _render_case(access, message_form, status=200, meeting_form=None):
    view = followup.read_case(access)
    return _may_record(make_response(render_template(
        "public/followup_case.html", view=view, form=message_form,
        meeting_form=meeting_form or MeetingForm(formdata=None), logout_form=LogoutForm(),
        sent=request.args.get("sent")), status))


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
                evidence = prepare_evidence(form.uploads(),
                                            disguise_voice=form.disguise_voice())
                followup.send_message(access, (form.body.data or "").strip(), evidence)
                return redirect(url_for(".followup_case", sent=1))
    except SessionExpired as error:
        return _back_to_login(error)
    except DomainError as error:
        show_error(form, error)
    with unit_of_work():
        return _render_case(_reporter_access(), form, status=400)


@bp.route("/follow-up/meeting", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"])
def followup_meeting():
    """"I would like to meet or talk": an encrypted message and the inbox's marker."""
    form = MeetingForm()
    try:
        with unit_of_work():
            access = _reporter_access()
            if form.validate_on_submit():
                meetings.request_at_followup(access, meetings.MeetingRequest(
                    way=form.way.data, days=(form.days.data or "").strip()))
                return redirect(url_for(".followup_case", sent="meeting"))
    except SessionExpired as error:
        return _back_to_login(error)
    except DomainError as error:
        show_error(form, error)
    with unit_of_work():
        return _render_case(_reporter_access(), ReporterMessageForm(formdata=None), 400,
                            meeting_form=form)


@bp.route("/follow-up/minutes/sign", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"])
def followup_sign_minutes():
    """The reporter confirms the minutes of their oral report."""
    form = LogoutForm()  # nothing typed: the CSRF token only
    try:
        with unit_of_work():
            access = _reporter_access()
            if not form.validate_on_submit():
                abort(400)
            meetings.sign_minutes(access)
    except SessionExpired as error:
        return _back_to_login(error)
    except DomainError:
        return redirect(url_for(".followup_case"))
    return redirect(url_for(".followup_case", sent="signed"))


@bp.route("/follow-up/files/<int:file_id>")
def followup_file(file_id: int):
    """A file of the reporter's case, as a download (never rendered, never cached)."""
    try:
        with unit_of_work():
            found = followup.download(_reporter_access(), file_id)
    except SessionExpired as error:
        return _back_to_login(error)
    except NotAuthorised:
        abort(404)
    except EvidenceUnavailable as error:
        current_app.logger.warning("an evidence file of a reporter's case cannot be opened")
        return render_template("errors/error.html", status=500, message=error.message), 500
    # The body streams after the commit: found.chunks holds plain values only.
    return file_download(found.chunks, found.name, found.size)


@bp.route("/follow-up/logout", methods=["POST"])
def followup_logout():
    with unit_of_work():
        followup.log_out(request.cookies.get(FOLLOWUP_COOKIE))
    response = redirect(url_for(".index", logged_out=1))
    response.delete_cookie(FOLLOWUP_COOKIE, path=_cookie_path("/follow-up"))
    return response


# --- transparency: the integrity indicators for everyone, small counts suppressed ----------------

@bp.route("/transparency")
def transparency():
    from ..services.indicators.transparency import public_years, year_views
    from ..stats.public import tables

    institution = _institution()
    years = sorted(public_years(institution))
    views = year_views(institution, years)
    return render_template("public/transparency.html", institution=institution, years=years,
                           tables=tables(views), threshold=views[0].threshold if views else None)


@bp.route("/transparency/<int:year>.<any(csv, json):kind>")
@bp.route("/transparency/<int:year>-metadata.json", defaults={"kind": "metadata"})
def transparency_data(year: int, kind: str):
    """The open-data files of a completed year: the same suppressed figures as the page."""
    from ..services.indicators import exports
    from ..services.indicators.transparency import public_years, year_view

    institution = _institution()
    if year not in public_years(institution):
        abort(404)
    made = exports.public_file(institution, year_view(institution, year), kind)
    response = make_response(made.body)
    response.mimetype = made.mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    return response


# --- the integrity plan (measure 1.4), when the coordinator published it ----------------------

@bp.route("/plan")
def integrity_plan():
    from ..services.plan.labels import STATUS
    from ..services.plan.public import published_plan

    institution = _institution()
    published = published_plan(institution)
    return render_template("public/plan.html", institution=institution, view=published,
                           status_label=STATUS.get)


@bp.route("/plan/documents/<int:evidence_id>")
def integrity_plan_document(evidence_id: int):
    from ..downloads import file_download
    from ..services.errors import EvidenceUnavailable
    from ..services.plan import evidence as plan_evidence
    from ..services.plan.access import PlanNotFound

    institution = _institution()
    try:
        chunks, name, size = plan_evidence.public_download(institution.id, evidence_id)
    except (PlanNotFound, EvidenceUnavailable):
        abort(404)
    return file_download(chunks, name, size)

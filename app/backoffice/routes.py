"""Back-office views: parse the form, call one service, render. Roles and keys are checked in
the services; the decorators only send the obviously lost elsewhere early."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm

from ..auth.session import current_access, staff_view
from ..downloads import file_download
from ..form_errors import show_error
from ..labels import event_sentence
from ..models import Category, Channel, Outcome, Regime, Role, Status
from ..services.access import grants, identity
from ..services.access import keys as key_access
from ..services.access.opened import OpenCase, open_case
from ..services.casework import (
    case_view,
    deadlines,
    meetings,
    messages,
    notes,
    redaction,
    workflow,
)
from ..services.casework.inbox import InboxFilters, handler_places
from ..services.casework.inbox import inbox as inbox_page
from ..services.errors import DomainError, EvidenceUnavailable
from ..services.intake.evidence import prepare_evidence
from ..services.operations import retention
from ..services.operations.institutions import institution_of
from ..services.staff import directory, places
from ..services.transaction import unit_of_work
from . import bp
from .forms import (
    AcknowledgeForm,
    CloseForm,
    DecisionForm,
    DeleteFileForm,
    ExtendForm,
    ForwardForm,
    InboxFilterForm,
    MemberForm,
    MemberIdForm,
    MessageForm,
    MinutesForm,
    NoteForm,
    ReasonForm,
    RedactForm,
    StepForm,
    TriageForm,
)

bp.add_app_template_filter(event_sentence, "event_sentence")


@bp.app_template_global()
def unreadable_report_count() -> int:
    """For the staff pages that warn about cases only the recovery code can open now."""
    access = current_access()
    return key_access.unreadable_case_count(access.member.institution_id) if access else 0


@bp.route("/")
@staff_view()
def home(access):
    member = access.member
    if member.has_role(Role.HANDLER):
        return redirect(url_for(".inbox"))
    if member.has_role(Role.CUSTODIAN):
        return redirect(url_for(".identity_requests"))
    if member.has_role(Role.PLAN_CONTRIBUTOR) and not member.has_role(Role.COORDINATOR):
        return redirect(url_for("plan.workspace"))
    return render_template("backoffice/home.html")


def enum_or_none(enum_class, value):
    """The enum member a form's value names, or None (empty or unknown)."""
    try:
        return enum_class(value) if value else None
    except ValueError:
        return None


@bp.route("/cases")
@staff_view(Role.HANDLER)
def inbox(access):
    form = InboxFilterForm(request.args)
    member = access.member
    served = {place.institution_id: institution.name for place, institution in places.places(access)
              if place in handler_places(member)}
    form.institution.choices = [("", _l("All"))] + [(str(key), name) for key, name in served.items()]
    filters = InboxFilters(
        status=enum_or_none(Status, form.status.data),
        channel=enum_or_none(Channel, form.channel.data),
        regime=enum_or_none(Regime, form.regime.data),
        overdue=bool(form.overdue.data), page=request.args.get("page", 1, type=int),
        institution_id=request.args.get("institution", type=int))
    page = inbox_page(member, filters)
    return render_template("backoffice/inbox.html", form=form, page=page,
                           purge_soon=retention.approaching_purge(member),
                           institutions=served if len(served) > 1 else {},
                           staff_names=directory.names(list(served) or [member.institution_id]),
                           days_left=deadlines.days_left, now=datetime.now(UTC))


def _case_forms(view, me: int) -> dict:
    grant_form, revoke_form = MemberForm(prefix="grant"), MemberForm(prefix="revoke")
    grant_form.member.choices = [(m.id, m.name) for m in view.grantable]
    # Removing one's own access is refused (ask a colleague): it is not offered either.
    revoke_form.member.choices = [(m.id, m.name) for m in view.holders if m.id != me]
    triage = TriageForm(prefix="triage", formdata=None)
    triage.regime.data = view.case.regime.value if view.case.regime else None
    triage.category.data = view.case.category.value
    triage.examine_anonymous.data = bool(workflow.examine_anonymous_decision(view.case))
    return {
        "triage_form": triage, "acknowledge_form": AcknowledgeForm(prefix="ack"),
        "close_form": CloseForm(prefix="close"), "forward_form": ForwardForm(prefix="fwd"),
        "extend_form": ExtendForm(prefix="ext"), "message_form": MessageForm(prefix="msg"),
        "note_form": NoteForm(prefix="note"), "reveal_form": ReasonForm(prefix="reveal"),
        "grant_form": grant_form, "revoke_form": revoke_form, "step_form": StepForm(),
        "minutes_form": _minutes_form(view),
        "redact_form": RedactForm(prefix="redact"), "delete_file_form": DeleteFileForm(
            prefix="delfile"),
    }


def _minutes_form(view) -> MinutesForm:
    """Proposes the minutes already recorded, so a correction the reporter asked for is an
    edit, not a rewrite."""
    form = MinutesForm(prefix="minutes", formdata=None)
    form.minutes.data = (view.content or {}).get("transcript") or ""
    return form


REPORT_FIELD_LABELS = {
    "what_happened": _l("What happened"), "when_where": _l("When and where"),
    "persons_involved": _l("Persons involved"), "how_known": _l("How the reporter knows"),
    "transcript": _l("Transcript or minutes"),
}


def _redaction_choices(forms: dict, view) -> None:
    """What can be redacted or deleted: the report's filled-in fields, the messages, the
    files (set on whichever form instance is rendered, fresh or bound)."""
    if view.content is None:
        return
    targets = [(f"report:{name}", REPORT_FIELD_LABELS[name]) for name in redaction.REPORT_FIELDS
               if view.content.get(name)]
    for item in view.thread:
        if item.message_id is not None:
            when = format_datetime(item.created_at, "d MMM yyyy, HH:mm")
            label = (_l("Message from the reporter, %(date)s", date=when)
                     if item.kind == "reporter" else
                     _l("Message from %(name)s, %(date)s", name=item.staff_name or "—", date=when))
            targets.append((f"message:{item.message_id}", label))
    forms["redact_form"].target.choices = targets
    files = view.files + [f for item in view.thread for f in item.files]
    forms["delete_file_form"].file.choices = [
        (f.id, f"{f.name} ({format_datetime(f.created_at, 'd MMM yyyy')})") for f in files]


def _render_case(access, case_id: int, status: int = 200, identity_shown=None, **bound_forms):
    view = case_view.read_case(access, case_id)
    forms = _case_forms(view, access.member.id)
    forms.update(bound_forms)
    refusals = [error for form in bound_forms.values() for error in form.form_errors]
    _redaction_choices(forms, view)
    institution = institution_of(view.case)
    return render_template("backoffice/case.html", view=view, identity=identity_shown,
                           deadline_days=deadlines.days_left(view.case),
                           overdue=deadlines.is_overdue(view.case), refusals=refusals,
                           identity_policy=institution.identity_policy,
                           institution_name=institution.name,
                           **forms), status


@bp.route("/cases/<int:case_id>")
@staff_view(Role.HANDLER)
def case(access, case_id: int):
    with unit_of_work():
        places.enter_institution_of_case(access, case_id)
        return _render_case(access, case_id)


# One POST endpoint for the case page's actions: each action is a named function that maps its
# form to the service call, registered under the name in its URL with the form it reads (and
# the template's name for that form, to show it again with its errors) and what it flashes.
# Each runs on the case opened once for the request (services/access/opened.py).
@dataclass(frozen=True)
class CaseAction:
    form_name: str
    make_form: Callable[[], FlaskForm]
    run: Callable[[FlaskForm, OpenCase], object]
    done: LazyString


ACTIONS: dict[str, CaseAction] = {}


def _action(name: str, form_name: str, make_form: Callable[[], FlaskForm], done: LazyString):
    def register(run):
        ACTIONS[name] = CaseAction(form_name, make_form, run, done)
        return run
    return register


@_action("triage", "triage_form", partial(TriageForm, prefix="triage"),
         _l("The triage is recorded."))
def _triage(form, opened):
    workflow.triage(opened, regime=Regime(form.regime.data),
                    category=Category(form.category.data),
                    examine_anonymous=form.examine_anonymous.data)


@_action("acknowledge", "acknowledge_form", partial(AcknowledgeForm, prefix="ack"),
         _l("Acknowledgement sent."))
def _acknowledge(form, opened):
    workflow.acknowledge(opened, form.message.data)


@_action("assess", "step_form", StepForm, _l("The case is in assessment."))
def _assess(form, opened):
    workflow.start_assessment(opened)


@_action("investigate", "step_form", StepForm, _l("The case is under investigation."))
def _investigate(form, opened):
    workflow.start_investigation(opened)


@_action("reopen", "step_form", StepForm, _l("The case is reopened."))
def _reopen(form, opened):
    workflow.reopen(opened)


@_action("close", "close_form", partial(CloseForm, prefix="close"), _l("The case is closed."))
def _close(form, opened):
    workflow.close(opened, Outcome(form.outcome.data), form.message.data)


@_action("forward", "forward_form", partial(ForwardForm, prefix="fwd"),
         _l("The case is forwarded."))
def _forward(form, opened):
    workflow.forward(opened, form.authority.data, form.forwarded_on.data, form.message.data,
                     identity_consent=form.identity_consent.data)


@_action("extend", "extend_form", partial(ExtendForm, prefix="ext"),
         _l("The deadline is extended."))
def _extend(form, opened):
    workflow.extend(opened, form.message.data)


@_action("message", "message_form", partial(MessageForm, prefix="msg"), _l("Message sent."))
def _message(form, opened):
    messages.message_reporter(opened, form.body.data, prepare_evidence(form.evidence.data or []))


@_action("minutes", "minutes_form", partial(MinutesForm, prefix="minutes"),
         _l("The minutes were saved; the reporter can read and confirm them at follow-up."))
def _minutes(form, opened):
    meetings.record_minutes(opened, form.minutes.data)


@_action("note", "note_form", partial(NoteForm, prefix="note"), _l("Note saved."))
def _note(form, opened):
    notes.add_note(opened, form.body.data)


@_action("assign-me", "step_form", StepForm, _l("The case is assigned to you."))
def _assign_me(form, opened):
    workflow.assign(opened, opened.member.id)


@_action("identity-request", "reveal_form", partial(ReasonForm, prefix="reveal"),
         _l("Your request was sent to the custodians."))
def _identity_request(form, opened):
    identity.request_access(opened, form.reason.data)


@_action("redact", "redact_form", partial(RedactForm, prefix="redact"),
         _l("The passage was replaced by “[redacted]”."))
def _redact(form, opened):
    kind, _, place = (form.target.data or "").partition(":")
    if kind == "message" and place.isdigit():
        redaction.redact_message(opened, int(place), form.passage.data, form.reason.data)
    else:
        redaction.redact_report(opened, place if kind == "report" else "", form.passage.data,
                                form.reason.data)


@_action("delete-file", "delete_file_form", partial(DeleteFileForm, prefix="delfile"),
         _l("The file was deleted."))
def _delete_file(form, opened):
    redaction.delete_file(opened, form.file.data, form.reason.data)


# Granting and revoking a colleague's key: the service and what is flashed.
MEMBER_ACTIONS = {
    "grant": (grants.grant, _l("Access granted.")),
    "revoke": (grants.revoke, _l("Access removed.")),
}


@bp.route("/cases/<int:case_id>/access/<action>", methods=["POST"])
@staff_view(Role.HANDLER)
def case_access(access, case_id: int, action: str):
    """Grant or revoke a colleague's key: one choice, nothing typed, so errors are flashed."""
    if action not in MEMBER_ACTIONS:
        abort(404)
    opened = open_case(access, case_id)  # 403 before anything else
    form = MemberIdForm(prefix=action)
    if not form.validate_on_submit():
        flash(_l("Choose a colleague."))
        return redirect(url_for(".case", case_id=case_id))
    service, done = MEMBER_ACTIONS[action]
    try:
        with unit_of_work():
            service(opened, form.member.data)
    except DomainError as error:
        flash(error.message)
    else:
        flash(done)
    return redirect(url_for(".case", case_id=case_id))


@bp.route("/cases/<int:case_id>/<action>", methods=["POST"])
@staff_view(Role.HANDLER)
def case_action(access, case_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    chosen = ACTIONS[action]
    form = chosen.make_form()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                chosen.run(form, open_case(access, case_id))
        except DomainError as error:
            show_error(form, error)
        else:
            flash(chosen.done)
            return redirect(url_for(".case", case_id=case_id))
    with unit_of_work():
        return _render_case(access, case_id, 400, **{chosen.form_name: form})


@bp.route("/cases/<int:case_id>/identity", methods=["POST"])
@staff_view(Role.HANDLER)
def reveal_identity(access, case_id: int):
    form = ReasonForm(prefix="reveal")
    shown = None
    if form.validate_on_submit():
        try:
            with unit_of_work():
                shown = identity.reveal(open_case(access, case_id), form.reason.data)
        except DomainError as error:
            show_error(form, error)
    with unit_of_work():
        return _render_case(access, case_id, 200 if shown else 400, identity_shown=shown,
                            reveal_form=form)


@bp.route("/cases/<int:case_id>/files/<int:file_id>")
@staff_view(Role.HANDLER)
def download(access, case_id: int, file_id: int):
    try:
        with unit_of_work():
            meta, chunks = case_view.download(open_case(access, case_id), file_id)
    except EvidenceUnavailable as error:
        current_app.logger.warning("evidence file %s of case %s cannot be opened", file_id,
                                   case_id)
        return render_template("errors/error.html", status=500, message=error.message), 500
    # The body streams after the commit: `chunks` holds plain values only (no session rows).
    return file_download(chunks, meta.name, meta.size)


@bp.route("/identity-requests", methods=["GET", "POST"])
@staff_view(Role.CUSTODIAN)
def identity_requests(access):
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                identity.decide(access, request.form.get("request_id", type=int),
                                form.decision.data == "approve", form.reason.data)
        except DomainError as error:
            show_error(form, error)
        else:
            return redirect(url_for(".identity_requests", decided=1))
    with unit_of_work():
        pending = identity.pending_requests(access)
    status = 400 if form.is_submitted() else 200
    return render_template("backoffice/identity_requests.html", pending=pending,
                           form=form), status

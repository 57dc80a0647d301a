"""Manual intake: a report that came by phone, e-mail, post, in person, the box or social
media, recorded by a handler (its rules are services/intake/submit.py manual_report's)."""
from flask import render_template, request
from flask_babel import get_locale

from ..auth.session import staff_view
from ..form_errors import show_error
from ..models import Category, Channel, Platform, Role
from ..services.errors import DomainError
from ..services.intake import receipts
from ..services.intake import submit as intake
from ..services.intake.evidence import prepare_evidence
from ..services.intake.slip import receipt_slip
from ..services.operations.institutions import institution_of
from ..services.transaction import unit_of_work
from . import bp
from .forms import ManualIntakeForm
from .routes import enum_or_none


@bp.route("/intake", methods=["GET", "POST"])
@staff_view(Role.HANDLER)
def intake_form(access):
    form = ManualIntakeForm()
    if request.method == "GET":
        form.received_on.data = intake.manual_received_on_default()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                submitted = intake.submit_report(
                    institution_of(access.member), _manual_report(form, access.member),
                    prepare_evidence(form.evidence.data or []),
                    issue_receipt=form.issue_receipt.data, form_code=form.form_code.data or "")
        except DomainError as error:
            show_error(form, error)
        else:
            return render_template(
                "backoffice/intake_done.html", reference=submitted.reference,
                case_id=submitted.case_id, form_code_bound=submitted.form_code_bound,
                slip=receipt_slip(submitted),
                receipt=receipts.display(submitted.receipt) if submitted.receipt else None)
    form.form_code.data = ""  # a receipt is never echoed back
    status = 400 if form.is_submitted() else 200
    return render_template("backoffice/intake.html", form=form), status


def _manual_report(form: ManualIntakeForm, member) -> intake.Report:
    """The form's values; the rules of a manual report are intake.manual_report's."""
    return intake.manual_report(
        recorded_by=member, channel=Channel(form.channel.data),
        platform=enum_or_none(Platform, form.platform.data),
        received_on=form.received_on.data, anonymous=bool(form.anonymous.data),
        name=(form.name.data or "").strip(), email=(form.email.data or "").strip(),
        phone=(form.phone.data or "").strip(), reporter_signed=bool(form.reporter_signed.data),
        category=Category(form.category.data), what_happened=form.what_happened.data.strip(),
        when_where=(form.when_where.data or "").strip(),
        persons_involved=(form.persons_involved.data or "").strip(),
        work_context=bool(form.work_context.data), language=str(get_locale()),
        transcript=(form.transcript.data or "").strip(),
        recording_consent=bool(form.recording_consent.data))

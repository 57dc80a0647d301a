from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from ..labels import CATEGORY, CHANNEL, OUTCOME, PLATFORM, REGIME, STATUS
from ..models import Channel, Outcome
from ..services.casework.notes import MAX_NOTE
from ..services.casework.redaction import MAX_REASON as MAX_REDACTION_REASON
from ..services.casework.redaction import MIN_REASON as MIN_REDACTION_REASON
from ..services.intake.followup import MAX_MESSAGE
from ..services.intake.paper_forms import MAX_FORMS
from ..services.intake.submit import MAX_DESCRIPTION, MAX_DETAIL, MAX_EMAIL, MAX_NAME, MAX_PHONE


def _choices(labels: dict, blank=None) -> list[SelectChoice]:
    options = [SelectChoice(member.value, label) for member, label in labels.items()]
    return ([SelectChoice("", blank)] if blank else []) + options


def _message_field(label):
    return TextAreaField(label, validators=[
        DataRequired(_l("Write the message the reporter will receive.")),
        Length(max=MAX_MESSAGE)])


class InboxFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    status = SelectField(_l("Status"), choices=_choices(STATUS, _l("All")), validators=[Optional()])
    channel = SelectField(_l("Channel"), choices=_choices(CHANNEL, _l("All")),
                          validators=[Optional()])
    regime = SelectField(_l("Regime"), choices=_choices(REGIME, _l("All")), validators=[Optional()])
    overdue = BooleanField(_l("Overdue only"))
    # Only for a person serving several institutions; the view fills in their choices.
    institution = SelectField(_l("Institution"), choices=[], validate_choice=False,
                              validators=[Optional()])


class TriageForm(FlaskForm):
    regime = RadioField(_l("Which law applies?"), choices=_choices(REGIME),
                        validators=[InputRequired(_l("Choose the regime."))])
    category = SelectField(_l("Category"), choices=_choices(CATEGORY))
    examine_anonymous = BooleanField(_l("Examine this anonymous petition anyway (integrity tip, "
                                        "measure 2.2)"))


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message to the reporter"), validators=[
        DataRequired(_l("Please write a message.")), Length(max=MAX_MESSAGE)])
    evidence = MultipleFileField(_l("Files for the reporter (optional)"))


class MinutesForm(FlaskForm):
    minutes = TextAreaField(_l("Minutes of the meeting or call"), validators=[
        DataRequired(_l("Please write the minutes.")), Length(max=20000)])


class AcknowledgeForm(FlaskForm):
    message = _message_field(_l("Acknowledgement sent to the reporter"))


class CloseForm(FlaskForm):
    # Nothing preselected: the outcome is a decision, never a default.
    outcome = SelectField(_l("Outcome"), choices=[SelectChoice("", _l("— choose the outcome —"))] + [
        SelectChoice(o.value, OUTCOME[o]) for o in Outcome if o is not Outcome.FORWARDED],
        validators=[DataRequired(_l("Choose the outcome of the examination."))])
    message = _message_field(_l("Reasoned answer to the reporter"))


class ForwardForm(FlaskForm):
    authority = StringField(_l("Competent authority"), validators=[
        DataRequired(_l("Name the authority the case goes to.")), Length(max=200)])
    forwarded_on = DateField(_l("Forwarded on"), validators=[
        InputRequired(_l("Give the date it was forwarded."))])
    message = _message_field(_l("Message to the reporter"))
    # Never preselected: without it the forwarding packet leaves the identity out.
    identity_consent = BooleanField(_l("The reporter agreed that their identity goes to this "
                                       "authority"))


class ExtendForm(FlaskForm):
    message = _message_field(_l("Reason, sent to the petitioner"))


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note (never shown to the reporter)"), validators=[
        DataRequired(_l("Please write the note.")), Length(max=MAX_NOTE)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Why do you need the reporter's identity?"), validators=[
        DataRequired(_l("Write why you need the identity.")), Length(max=1000)])


def _redaction_reason():
    return TextAreaField(_l("Why is it manifestly irrelevant personal data?"), validators=[
        DataRequired(_l("Write why this is manifestly irrelevant personal data (at least "
                        "%(count)d characters).", count=MIN_REDACTION_REASON)),
        Length(max=MAX_REDACTION_REASON)])


class RedactForm(FlaskForm):
    """The choices (report fields and messages of the case) are filled in by the view."""

    target = SelectField(_l("Where is the passage?"), validate_choice=False)
    passage = TextAreaField(_l("The exact passage to remove"), validators=[
        DataRequired(_l("Copy the exact passage to remove.")), Length(max=MAX_DESCRIPTION)])
    reason = _redaction_reason()


class DeleteFileForm(FlaskForm):
    file = SelectField(_l("File"), coerce=int, validate_choice=False)
    reason = _redaction_reason()


class MemberForm(FlaskForm):
    member = SelectField(_l("Colleague"), coerce=int)


class MemberIdForm(FlaskForm):
    member = IntegerField(validators=[InputRequired()])


class StepForm(FlaskForm):
    """A button with nothing to type (assessment, investigation, reopen)."""


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[
        SelectChoice("approve", _l("Approve")), SelectChoice("deny", _l("Deny"))],
        validators=[InputRequired(_l("Choose approve or deny."))])
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Write the reason for your decision.")), Length(max=1000)])


class ManualIntakeForm(FlaskForm):
    channel = SelectField(_l("Received through"), choices=[
        SelectChoice(c.value, CHANNEL[c]) for c in Channel if c is not Channel.WEB])
    platform = SelectField(_l("Social media platform"), choices=_choices(PLATFORM, _l("—")),
                           validators=[Optional()])
    received_on = DateField(_l("Received on"), validators=[
        InputRequired(_l("Give the date the report was received."))])
    category = SelectField(_l("Category"), choices=_choices(CATEGORY))
    what_happened = TextAreaField(_l("What was reported"), validators=[
        DataRequired(_l("Please describe what was reported.")), Length(max=MAX_DESCRIPTION)])
    when_where = TextAreaField(_l("When and where"), validators=[Optional(),
                                                                 Length(max=MAX_DETAIL)])
    persons_involved = TextAreaField(_l("Persons involved"), validators=[
        Optional(), Length(max=MAX_DETAIL)])
    transcript = TextAreaField(_l("Transcript or minutes (oral reports)"), validators=[
        Optional(), Length(max=MAX_DESCRIPTION)])
    reporter_signed = BooleanField(_l("The reporter checked and signed the transcript or "
                                      "minutes"))
    work_context = BooleanField(_l("The reporter learned of it at work"))
    anonymous = BooleanField(_l("Anonymous report"), default=True)
    name = StringField(_l("Reporter's name"), validators=[Optional(), Length(max=MAX_NAME)])
    email = StringField(_l("Reporter's e-mail"), validators=[
        Optional(), Length(max=MAX_EMAIL), Email(_l("This does not look like an e-mail "
                                                    "address."))])
    phone = StringField(_l("Reporter's phone"), validators=[Optional(), Length(max=MAX_PHONE)])
    evidence = MultipleFileField(_l("Scanned documents or files (optional)"))
    recording_consent = BooleanField(_l("The reporter agreed that the call or meeting was "
                                        "recorded (a recording is among the files)"))
    issue_receipt = BooleanField(_l("Issue a receipt code to hand to the reporter"),
                                 default=True)
    # The code printed on a paper form from the box or the post: the case's receipt then.
    form_code = StringField(_l("Code printed on the paper form (optional)"),
                            validators=[Optional(), Length(max=40)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.channel.data == Channel.SOCIAL_MEDIA.value and not self.platform.data:
            self.platform.errors.append(_l("Choose the platform the report came through."))
            valid = False
        if self.channel.data in (Channel.PHONE.value, Channel.IN_PERSON.value) \
                and not (self.transcript.data or "").strip():
            self.transcript.errors.append(_l("An oral report needs its transcript or minutes."))
            valid = False
        if not self.anonymous.data and not any(
                (f.data or "").strip() for f in (self.name, self.email, self.phone)):
            self.name.errors.append(_l("Give the reporter's name or a contact, or mark the "
                                       "report anonymous."))
            valid = False
        return valid


class PaperFormsForm(FlaskForm):
    count = IntegerField(_l("Number of forms"), default=10, validators=[
        InputRequired(_l("Give the number of forms to print.")),
        NumberRange(min=1, max=MAX_FORMS,
                    message=_l("Print between 1 and %(max)d forms at a time.", max=MAX_FORMS))])

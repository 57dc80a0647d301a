from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FileField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ..labels import CATEGORY
from ..services.casework.meetings import MAX_DAYS, WAYS
from ..services.intake.followup import MAX_MESSAGE
from ..services.intake.submit import MAX_DESCRIPTION, MAX_DETAIL, MAX_EMAIL, MAX_NAME, MAX_PHONE


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _too_long(limit: int):
    return Length(max=limit, message=_l("Please keep this under %(max)d characters.", max=limit))


def _meeting_way(label):
    return RadioField(label, choices=[SelectChoice(value, text) for value, text in WAYS.items()],
                      validators=[Optional()])


def _meeting_days():
    return TextAreaField(_l("Which days and times suit you?"),
                         validators=[Optional(), _too_long(MAX_DAYS)])


class VoiceFields:
    """A voice message: recorded in the browser (voice.js puts it in `voice`) or a phone's
    recording attached without JavaScript; disguised unless the reporter unticks the box."""

    voice = FileField(_l("Voice message (optional)"))
    voice_disguise = BooleanField(_l("Disguise my voice (recommended)"), default=True)
    # Rendered beside the box: an unticked box counts only from a form that showed it, so a
    # request without these fields (an older page, a script) is disguised.
    voice_choice = HiddenField()
    evidence: MultipleFileField  # each form names its own evidence field

    def disguise_voice(self) -> bool:
        return not (self.voice_choice.data == "shown" and not self.voice_disguise.data)

    def uploads(self) -> list:
        """Every file of the form: the evidence files and the voice message."""
        files = list(self.evidence.data or [])
        return files + ([self.voice.data] if self.voice.data else [])


class ReportForm(VoiceFields, FlaskForm):
    category = RadioField(
        _l("What is it about?"),
        choices=[SelectChoice(category.value, label) for category, label in CATEGORY.items()],
        validators=[InputRequired(_l("Please choose what the report is about."))])
    what_happened = TextAreaField(
        _l("What happened?"),
        validators=[DataRequired(_l("Please describe what happened.")),
                    _too_long(MAX_DESCRIPTION)])
    when_where = TextAreaField(_l("When and where did it happen?"),
                               validators=[Optional(), _too_long(MAX_DETAIL)])
    persons_involved = TextAreaField(_l("Who was involved?"),
                                     validators=[Optional(), _too_long(MAX_DETAIL)])
    how_known = TextAreaField(_l("How do you know?"),
                              validators=[Optional(), _too_long(MAX_DETAIL)])
    evidence = MultipleFileField(_l("Evidence files (optional)"))
    # Shown, ticked, only beside files kept from a refused attempt: a submission without it
    # (untick, or any other form) forgets them.
    keep_held = BooleanField(_l("Send the files kept from the previous attempt with the report"))
    work_context = RadioField(
        _l("Did you learn of this through your work?"),
        choices=[SelectChoice("yes", _l("Yes: I work (or worked) for, or with, the institution")),
                 SelectChoice("no", _l("No: I am a citizen reporting what I saw"))],
        validators=[InputRequired(_l("Please tell us whether you learned of it at work."))])
    identity_choice = RadioField(
        _l("Do you want to give your name?"),
        choices=[SelectChoice("anonymous", _l("No, report anonymously")),
                 SelectChoice("identified", _l("Yes, I give my name and a way to contact me"))],
        default="anonymous",
        validators=[InputRequired(_l("Please choose whether to report anonymously."))])
    name = StringField(_l("Name"), validators=[Optional(), _too_long(MAX_NAME)])
    email = StringField(_l("E-mail"), validators=[
        Optional(), _too_long(MAX_EMAIL),
        Email(_l("This does not look like an e-mail address."))])
    phone = StringField(_l("Phone"), validators=[
        Optional(), _too_long(MAX_PHONE),
        Regexp(r"^\+?[0-9 ()./-]{6,}$", message=_l("Please write the phone number with digits."))])
    # Asked only when contact details were typed while "anonymous" is chosen.
    contact_choice = RadioField(
        _l("You chose to report anonymously, but you typed contact details. What should we do?"),
        choices=[SelectChoice("discard", _l("Stay anonymous and discard the details I typed")),
                 SelectChoice("identified", _l("Keep my details: I report with my name and "
                                               "contact (I can be told by e-mail when there "
                                               "is news)"))],
        validate_choice=False)
    meeting_wanted = BooleanField(_l("I would like to meet or talk to the designated person"))
    meeting_way = _meeting_way(_l("How would you like to talk?"))
    meeting_days = _meeting_days()
    excluded = MultiCheckboxField(_l("Staff who must not see your report (optional)"), coerce=int)
    consent = BooleanField(
        _l("I have read the privacy notice and agree that my report is processed as it says."),
        validators=[DataRequired(_l("Please confirm that you have read the privacy notice."))])
    # Honeypot: hidden from people, filled in by bots.
    website = StringField(_l("Leave this field empty"))

    def typed_contact(self) -> bool:
        return any((f.data or "").strip() for f in (self.name, self.email, self.phone))

    def _settle_contact_details(self) -> bool:
        """Contact details typed beside "anonymous" are never dropped silently: the reporter
        is asked, and what they typed is kept until they answer."""
        if self.identity_choice.data != "anonymous" or not self.typed_contact():
            return True
        if self.contact_choice.data == "identified":
            self.identity_choice.data = "identified"
            return True
        if self.contact_choice.data == "discard":
            return True
        self.contact_choice.errors = [_l("Please choose: stay anonymous (the details you typed "
                                         "are discarded) or report with your details.")]
        return False

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.contact_choice.data not in (None, "", "discard", "identified"):
            self.contact_choice.data = None
        valid = self._settle_contact_details() and valid
        choosable = {value for value, *_ in self.excluded.iter_choices()} if self.excluded.choices \
            else set()
        if choosable and set(self.excluded.data or []) >= choosable:
            self.excluded.errors.append(
                _l("You cannot exclude every designated person: nobody could open your report. "
                   "If you distrust all of them, report to the National Integrity Agency (ANI) "
                   "instead."))
            valid = False
        if self.identity_choice.data == "identified" and not (
                (self.email.data or "").strip() or (self.phone.data or "").strip()):
            self.email.errors.append(
                _l("To report with your name, give at least an e-mail address or a phone "
                   "number (or choose to report anonymously)."))
            valid = False
        if self.meeting_wanted.data and not self.meeting_way.data:
            self.meeting_way.errors = [_l("Please choose how you would like to talk: in person "
                                          "or by phone.")]
            valid = False
        if self.website.data:
            self.form_errors.append(_l("Your report could not be accepted. Please clear the "
                                       "field “Leave this field empty” and send again."))
            valid = False
        return valid


class ReceiptLoginForm(FlaskForm):
    receipt = StringField(
        _l("Your 16-digit receipt"),
        validators=[DataRequired(_l("Please enter your receipt."))])


class ReporterMessageForm(VoiceFields, FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[Optional(), _too_long(MAX_MESSAGE)])
    evidence = MultipleFileField(_l("Add files (optional)"))

    def validate(self, extra_validators=None) -> bool:
        """A message is words, a voice message or files: a reporter who cannot write may
        only speak."""
        valid = super().validate(extra_validators)
        if not (self.body.data or "").strip() and not any(
                getattr(item, "filename", None) for item in self.uploads()):
            self.body.errors = [_l("Please write a message.")]
            valid = False
        return valid


class MeetingForm(FlaskForm):
    way = _meeting_way(_l("How would you like to talk?"))
    days = _meeting_days()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.way.data:
            self.way.errors = [_l("Please choose how you would like to talk: in person or by "
                                  "phone.")]
            valid = False
        return valid


class LogoutForm(FlaskForm):
    pass

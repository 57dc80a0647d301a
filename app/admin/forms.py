from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FileField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ..labels import CATEGORY, IDENTITY_POLICY
from ..models import Role
from ..services.operations import settings
from ..services.staff.members import MIN_PASSWORD_LENGTH

ROLE_LABELS = {
    Role.HANDLER: _l("Handler (designated person): reads and handles the cases"),
    Role.COORDINATOR: _l("Coordinator: statistics and indicators, never case content"),
    Role.CUSTODIAN: _l("Custodian: approves requests to see a reporter's identity"),
    Role.ADMIN: _l("Administrator: accounts and settings, never case content"),
    Role.PLAN_CONTRIBUTOR: _l("Plan contributor: the integrity plan's measures, never cases"),
}
ROLE_NAMES = {
    Role.HANDLER: _l("handler"), Role.COORDINATOR: _l("coordinator"),
    Role.CUSTODIAN: _l("custodian"), Role.ADMIN: _l("administrator"),
    Role.PLAN_CONTRIBUTOR: _l("plan contributor"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AtLeastOne:
    """Like DataRequired for a group of checkboxes, without marking each box `required` (which
    would ask the browser to tick them all)."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if not field.data:
            raise StopValidation(self.message)


def _roles_field():
    return MultiCheckboxField(
        _l("Roles"), choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()],
        validators=[AtLeastOne(_l("Choose at least one role."))])


def _number(label, bounds: tuple[int, int]):
    low, high = bounds
    return IntegerField(label, validators=[
        InputRequired(_l("Please enter a number.")),
        NumberRange(min=low, max=high,
                    message=_l("Choose a whole number from %(min)d to %(max)d."))])


class InviteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Please enter the person's name.")),
                                               Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(_l("Please enter the e-mail address.")), Length(max=254),
        Email(_l("This does not look like an e-mail address."))])
    roles = _roles_field()


class RolesForm(FlaskForm):
    roles = _roles_field()


class ActionForm(FlaskForm):
    """A button with nothing to type (deactivate, reactivate, unlock, cancel)."""


class ActivationForm(FlaskForm):
    password = PasswordField(_l("Choose a password"), validators=[
        DataRequired(_l("Please choose a password.")),
        Length(min=MIN_PASSWORD_LENGTH, max=1000,
               message=_l("Use between %(min)d and %(max)d characters."))])
    confirm = PasswordField(_l("The same password again"), validators=[
        DataRequired(_l("Please type the password again.")),
        EqualTo("password", message=_l("The two passwords are not the same."))])
    code = StringField(_l("Code from your authenticator app"), validators=[
        DataRequired(_l("Please enter the 6-digit code.")), Length(max=12)])
    # The TOTP secret being enrolled, encrypted by the server (see services.staff.invitations).
    enrolment = HiddenField()


class SettingsForm(FlaskForm):
    identity_policy = RadioField(_l("Who may see a reporter's identity?"), choices=[
        SelectChoice(policy.value, label) for policy, label in IDENTITY_POLICY.items()],
        validators=[InputRequired(_l("Choose who may see reporters' identities."))])
    retention_years = _number(_l("Keep closed cases for (years)"), settings.RETENTION_YEARS)
    acknowledge_reminder_days = _number(_l("Remind handlers before the acknowledgement deadline "
                                           "(days)"), settings.ACKNOWLEDGE_REMINDER_DAYS)
    answer_reminder_days = _number(_l("Remind handlers before the answer or feedback deadline "
                                      "(days)"), settings.ANSWER_REMINDER_DAYS)
    mail_sender = StringField(_l("Sender address of the portal's e-mails"), validators=[
        Optional(), Length(max=settings.MAX_MAIL_SENDER),
        Email(_l("This does not look like an e-mail address."))])
    categories = MultiCheckboxField(
        _l("Categories offered on the report form"),
        choices=[SelectChoice(category.value, label) for category, label in CATEGORY.items()],
        validators=[AtLeastOne(_l("Keep at least one category on the report form."))])
    # Checked by the settings service (one rule, one message).
    siruta_code = StringField(_l("SIRUTA code"), validators=[Optional()])
    cui = StringField(_l("Fiscal identification code (CUI)"), validators=[Optional()])


class ProfileForm(FlaskForm):
    county = StringField(_l("County"), validators=[Optional()])
    address = StringField(_l("Address for reports by post or in person"), validators=[Optional()])
    office_hours = StringField(_l("Office hours"), validators=[Optional()])
    phone = StringField(_l("Telephone for reports"), validators=[Optional()])
    public_email = StringField(_l("Public e-mail address"), validators=[Optional()])
    dpo_contact = StringField(_l("Data-protection officer (name and contact)"),
                              validators=[Optional()])
    logo = FileField(_l("Logo (PNG, at most 200 KB)"))
    remove_logo = BooleanField(_l("Remove the logo"))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    action = SelectField(_l("Action"), validators=[Optional()])

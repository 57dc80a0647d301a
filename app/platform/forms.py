from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..services.operations.institutions import CONTACT_LIMITS, MAX_COUNTY, MAX_NAME


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("Name or county"), validators=[Optional(), Length(max=200)])
    county = StringField(_l("County"), validators=[Optional(), Length(max=MAX_COUNTY)])


class NewInstitutionForm(FlaskForm):
    # Random per form shown (routes.py): sent twice, it creates one institution.
    form_id = HiddenField(validators=[Optional(), Length(max=64)])
    # The lengths and identifiers are checked again, with their messages, by the service.
    name = StringField(_l("Name of the institution"), validators=[
        DataRequired(_l("Please enter the institution's name.")), Length(max=MAX_NAME)])
    county = StringField(_l("County"), validators=[Optional(), Length(max=MAX_COUNTY)])
    siruta_code = StringField(_l("SIRUTA code"), validators=[Optional()])
    cui = StringField(_l("Fiscal identification code (CUI)"), validators=[Optional()])
    address = TextAreaField(_l("Address for reports by post or in person"), validators=[
        Optional(), Length(max=CONTACT_LIMITS["address"])])
    phone = StringField(_l("Telephone for reports"), validators=[
        Optional(), Length(max=CONTACT_LIMITS["phone"])])
    office_hours = StringField(_l("Office hours"), validators=[
        Optional(), Length(max=CONTACT_LIMITS["office_hours"])])
    public_email = EmailField(_l("Public e-mail address"), validators=[
        Optional(), Length(max=CONTACT_LIMITS["public_email"])])
    dpo_contact = StringField(_l("Data-protection officer (contact)"), validators=[
        Optional(), Length(max=CONTACT_LIMITS["dpo_contact"])])
    admin_email = EmailField(_l("E-mail of the institution's first administrator"), validators=[
        DataRequired(_l("Please enter the e-mail address.")), Length(max=254),
        Email(_l("This does not look like an e-mail address."))])


class ConfirmForm(FlaskForm):
    """Suspend and resume: the CSRF token is all there is."""


class DeleteForm(FlaskForm):
    confirm_slug = StringField(_l("Type the institution's slug to confirm"), validators=[
        DataRequired(_l("Type the institution's slug to confirm.")), Length(max=80)])

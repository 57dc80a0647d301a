from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..services.staff.members import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Please enter your e-mail.")),
                                                 Length(max=254)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Please enter your password.")), Length(max=1000)])


class CodeForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app"), validators=[
        DataRequired(_l("Please enter the 6-digit code.")), Length(max=12)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Please enter your current password."))])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Please choose a new password.")),
        Length(min=MIN_PASSWORD_LENGTH, max=1000,
               message=_l("Use between %(min)d and %(max)d characters."))])
    confirm = PasswordField(_l("New password again"), validators=[
        EqualTo("new_password", message=_l("The two passwords are not the same."))])


class SignOutForm(FlaskForm):
    pass

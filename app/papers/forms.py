from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length


class RegisterForm(FlaskForm):
    start = DateField(_l("From"), validators=[InputRequired(_l("Give the first day."))])
    end = DateField(_l("To"), validators=[InputRequired(_l("Give the last day."))])
    reason = TextAreaField(
        _l("Why do you need the register? (it shows reporters' identities; recorded in the "
           "audit log)"),
        validators=[DataRequired(_l("Write why you need the identity.")), Length(max=1000)])

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..services.plan.data import MAX_CELL
from ..services.plan.following import MAX_PROGRESS, MAX_REASON
from ..services.plan.labels import STATUS
from ..services.plan.loader import EMPTY, IMPORT, SHIPPED
from ..services.plan.open_data import MAX_TITLE, MAX_URL


class YearForm(FlaskForm):
    class Meta:
        csrf = False

    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=2000, max=9998)])


class StatusForm(FlaskForm):
    status = SelectField(_l("Status this year"), choices=[
        SelectChoice(status.value, label) for status, label in STATUS.items()])
    reason = TextAreaField(_l("Why not implemented"), validators=[
        Optional(), Length(max=MAX_REASON)])


class ProgressForm(FlaskForm):
    happened_on = DateField(_l("Date"), validators=[InputRequired(_l("Give the date it was done."))])
    text = TextAreaField(_l("What was done"), validators=[
        DataRequired(_l("Say what was done.")), Length(max=MAX_PROGRESS)])


class EvidenceForm(FlaskForm):
    files = MultipleFileField(_l("Documents (the approved act, minutes, attendance list)"))
    public = BooleanField(_l("Show on the public page of the plan"))


class VisibilityForm(FlaskForm):
    public = BooleanField(_l("Public"))


class ConfirmForm(FlaskForm):
    pass


LINES_HINT = _l("One per line.")


class MeasureForm(FlaskForm):
    objective_number = IntegerField(_l("Objective number"), validators=[
        InputRequired(_l("Give the objective's number.")), NumberRange(min=1, max=99)])
    objective_title = StringField(_l("Objective title (for a new objective)"), validators=[
        Optional(), Length(max=MAX_CELL)])
    code = StringField(_l("Code"), validators=[DataRequired(_l("Give the measure's code.")),
                                               Length(max=16)])
    text = TextAreaField(_l("Measure"), validators=[DataRequired(_l("Give the measure's text.")),
                                                    Length(max=MAX_CELL)])
    indicators = TextAreaField(_l("Performance indicators"), validators=[Length(max=MAX_CELL)])
    risks = TextAreaField(_l("Risks"), validators=[Length(max=MAX_CELL)])
    sources = TextAreaField(_l("Verification sources"), validators=[Length(max=MAX_CELL)])
    deadline = StringField(_l("Deadline, as written"), validators=[Optional(), Length(max=100)])
    responsible = TextAreaField(_l("Responsible (offices)"), validators=[Length(max=MAX_CELL)])
    budget = StringField(_l("Budget"), validators=[Optional(), Length(max=MAX_CELL)])
    assignees = SelectMultipleField(_l("Responsible staff accounts"), coerce=int, choices=[])


class StartForm(FlaskForm):
    source = RadioField(_l("Start from"), choices=[
        SelectChoice(SHIPPED, _l("the model plan shipped with the portal (Bălțați, 21.02.2023)")),
        SelectChoice(IMPORT, _l("a file: YAML or CSV with the plan's columns")),
        SelectChoice(EMPTY, _l("nothing: an empty plan, filled in measure by measure"))],
        default=SHIPPED)
    title = StringField(_l("The plan's title"), validators=[Optional(), Length(max=300)])
    upload = FileField(_l("File (YAML or CSV)"))


class PublicationForm(FlaskForm):
    published = BooleanField(_l("Publish the plan on the institution's public page"))
    publish_status = BooleanField(_l("Show each measure's status for the current year"))


class OpenDataForm(FlaskForm):
    title = StringField(_l("Data set"), validators=[DataRequired(_l("Give the data set's title.")),
                                                    Length(max=MAX_TITLE)])
    url = StringField(_l("Address"), validators=[DataRequired(_l("Give the data set's address.")),
                                                 Length(max=MAX_URL)])
    published_on = DateField(_l("Published on"), validators=[
        InputRequired(_l("Give the date it was published."))])

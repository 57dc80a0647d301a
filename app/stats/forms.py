from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..models import OutreachKind, OutreachKitItem, OutreachPlatform
from ..services.indicators.outreach import (
    MAX_COUNT,
    MAX_FEEDBACK,
    MAX_LINK,
    MAX_TITLE,
    OutreachEntry,
    problems,
)
from ..services.indicators.periods import MONTH, QUARTER, RANGE, YEAR
from .labels import OUTREACH_KIND, OUTREACH_KIT_ITEM, OUTREACH_PLATFORM

PERIOD_KINDS = [SelectChoice(YEAR, _l("Year")), SelectChoice(QUARTER, _l("Quarter")),
                SelectChoice(MONTH, _l("Month")), SelectChoice(RANGE, _l("Dates from … to …"))]


class PeriodForm(FlaskForm):
    """The dashboard's period selector: a GET form that changes nothing."""

    class Meta:
        csrf = False

    period = SelectField(_l("Period"), choices=PERIOD_KINDS, default=YEAR)
    year = IntegerField(_l("Year"), validators=[Optional()])
    quarter = SelectField(_l("Quarter"), choices=[
        SelectChoice(str(n), _l("Quarter %(number)d", number=n)) for n in range(1, 5)],
        default="1")
    # Month names in the reader's language are set by the view (month_choices).
    month = SelectField(_l("Month"), choices=[SelectChoice(str(n), str(n)) for n in range(1, 13)],
                        default="1")
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])


class OutreachForm(FlaskForm):
    kind = RadioField(_l("What was it?"), choices=[
        SelectChoice(kind.value, label) for kind, label in OUTREACH_KIND.items()],
        default=OutreachKind.POST.value,
        validators=[InputRequired(_l("Choose a post or an awareness activity."))])
    platform = SelectField(_l("Channel or place"), choices=[
        SelectChoice(platform.value, label) for platform, label in OUTREACH_PLATFORM.items()])
    published_on = DateField(_l("Published or held on"), validators=[
        InputRequired(_l("Give the date it was published or held."))])
    title = StringField(_l("Title or subject"), validators=[
        DataRequired(_l("Give the title of the post or activity.")),
        Length(max=MAX_TITLE, message=_l("Keep the title under %(max)d characters.",
                                         max=MAX_TITLE))])
    link = StringField(_l("Link (optional)"), validators=[
        Optional(), Length(max=MAX_LINK, message=_l("Keep the link under %(max)d characters.",
                                                    max=MAX_LINK))])
    audience = IntegerField(_l("People reached (optional)"), validators=[
        Optional(), NumberRange(min=0, max=MAX_COUNT, message=_l(
            "Give a whole number from 0 to %(max)d, or leave it empty.", max=MAX_COUNT))])
    participants = IntegerField(_l("Participants (awareness activities)"), validators=[
        Optional(), NumberRange(min=0, max=MAX_COUNT, message=_l(
            "Give a whole number from 0 to %(max)d, or leave it empty.", max=MAX_COUNT))])

    kit_item = SelectField(_l("Outreach-kit image used (posts, optional)"), choices=[
        SelectChoice("", _l("— none —"))] + [
        SelectChoice(item.value, label) for item, label in OUTREACH_KIT_ITEM.items()],
        default="", validate_choice=False)  # older clients send none; checked in validate()
    feedback = TextAreaField(_l("Participants' feedback (awareness activities, optional)"),
                             validators=[Optional(), Length(max=MAX_FEEDBACK, message=_l(
                                 "Keep the feedback under %(max)d characters.",
                                 max=MAX_FEEDBACK))])

    def validate(self, extra_validators=None) -> bool:
        """The field checks, then the log's own rules (outreach.problems), so that every
        mistake is shown at once; the service checks the same rules again when saving."""
        valid = super().validate(extra_validators)
        entry = OutreachEntry(
            kind=_enum(OutreachKind, self.kind.data),
            platform=_enum(OutreachPlatform, self.platform.data),
            published_on=self.published_on.data, title=self.title.data or "x",
            link=self.link.data, audience=None if self.audience.errors else self.audience.data,
            participants=None if self.participants.errors else self.participants.data,
            feedback=self.feedback.data, kit_item=_enum(OutreachKitItem, self.kit_item.data))
        found = problems(entry)
        if self.kit_item.data and entry.kit_item is None:
            found.append(("kit_item", _l("Choose an item of the outreach kit, or none.")))
        for name, message in found:
            field = getattr(self, name)
            if not field.errors:
                field.errors.append(message)
                valid = False
        return valid


def _enum(enum_class, value):
    try:
        return enum_class(value)
    except ValueError:
        return None


class ConfirmForm(FlaskForm):
    """A button with nothing to type (delete)."""

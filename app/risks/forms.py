from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from ..labels import CATEGORY
from ..models import Category, RiskStatus
from ..services.risks.register import RiskEntry, problems
from .labels import IMPACT, PROBABILITY, STATUS


def _ratings(labels) -> list[SelectChoice]:
    return [SelectChoice("", _l("Choose…"))] + [
        SelectChoice(str(n), label) for n, label in labels.items()]


class RiskForm(FlaskForm):
    activity = StringField(_l("Activity or process"))
    area = SelectField(_l("Area (case category)"), choices=[SelectChoice("", _l("None"))] + [
        SelectChoice(category.value, label) for category, label in CATEGORY.items()])
    description = TextAreaField(_l("The risk"))
    causes = TextAreaField(_l("Causes"))
    probability = SelectField(_l("Probability"), choices=_ratings(PROBABILITY))
    impact = SelectField(_l("Impact"), choices=_ratings(IMPACT))
    owner = StringField(_l("Owner"))
    prevention = TextAreaField(_l("Prevention measures"))
    plan_measures = StringField(_l("Plan measures (codes)"))
    identified_on = DateField(_l("Identified on"), validators=[Optional()])
    review_on = DateField(_l("Review by"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=[
        SelectChoice(status.value, label) for status, label in STATUS.items()])
    remediation = TextAreaField(_l("What was done"))
    remediated_on = DateField(_l("Remedied on"), validators=[Optional()])

    def entry(self) -> RiskEntry:
        return RiskEntry(
            activity=self.activity.data or "", description=self.description.data or "",
            probability=_rating(self.probability.data), impact=_rating(self.impact.data),
            owner=self.owner.data or "", identified_on=self.identified_on.data,
            area=Category(self.area.data) if self.area.data else None,
            causes=self.causes.data or "", prevention=self.prevention.data or "",
            plan_measures=self.plan_measures.data or "", review_on=self.review_on.data,
            status=RiskStatus(self.status.data), remediation=self.remediation.data or "",
            remediated_on=self.remediated_on.data)

    def fill(self, risk) -> None:
        for name in ("activity", "description", "causes", "owner", "prevention",
                     "plan_measures", "identified_on", "review_on", "remediation",
                     "remediated_on"):
            getattr(self, name).data = getattr(risk, name)
        self.area.data = risk.area.value if risk.area else ""
        self.probability.data, self.impact.data = str(risk.probability), str(risk.impact)
        self.status.data = risk.status.value

    def validate(self, extra_validators=None) -> bool:
        """The field checks, then the register's rules (register.problems), all at once; the
        service checks the same rules again when saving."""
        valid = super().validate(extra_validators)
        if not valid:
            return False
        for name, message in problems(self.entry()):
            field = getattr(self, name)
            if not field.errors:
                field.errors.append(message)
                valid = False
        return valid


def _rating(value) -> int | None:
    return int(value) if value in {"1", "2", "3", "4", "5"} else None

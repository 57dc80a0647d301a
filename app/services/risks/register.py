"""Adding, changing and listing the risks of the register. Only the coordinator keeps it;
every change is in the audit log (fields changed, not a copy of the text)."""
import re
from dataclasses import asdict, dataclass, fields
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import Category, CorruptionRisk, RiskStatus, Role, StaffMember
from ..access.guards import require_role
from ..audit import chain as audit
from ..errors import DomainError
from ..indicators.periods import Period
from .scoring import SCALE

MAX_ACTIVITY = 200
MAX_OWNER = 200
MAX_TEXT = 5000
MAX_MEASURES = 200
# "1.6" or "1.6, 2.2": codes of the plan's measures, kept as written so the register does not
# depend on which plan is loaded.
MEASURE_CODES = re.compile(r"^\s*\d+(\.\d+)*(\s*[,;]\s*\d+(\.\d+)*)*\s*$")


class RiskRefused(DomainError):
    pass


class RiskNotFound(DomainError):
    pass


@dataclass
class RiskEntry:
    activity: str
    description: str
    probability: int | None
    impact: int | None
    owner: str
    identified_on: date | None
    area: Category | None = None
    causes: str = ""
    prevention: str = ""
    plan_measures: str = ""
    review_on: date | None = None
    status: RiskStatus = RiskStatus.IDENTIFIED
    remediation: str = ""
    remediated_on: date | None = None


def problems(entry: RiskEntry) -> list[tuple[str, object]]:
    """Every rule the entry breaks, as (field, message), so a form shows them all at once."""
    found = []
    for name, limit, message in (
            ("activity", MAX_ACTIVITY, _l("Name the activity or process.")),
            ("description", MAX_TEXT, _l("Describe the risk.")),
            ("owner", MAX_OWNER, _l("Name who owns the risk."))):
        value = (getattr(entry, name) or "").strip()
        if not value:
            found.append((name, message))
        elif len(value) > limit:
            found.append((name, _l("Keep it under %(max)d characters.", max=limit)))
    for name in ("causes", "prevention", "remediation"):
        if len(getattr(entry, name) or "") > MAX_TEXT:
            found.append((name, _l("Keep it under %(max)d characters.", max=MAX_TEXT)))
    for name in ("probability", "impact"):
        if getattr(entry, name) not in SCALE:
            found.append((name, _l("Choose a rating from 1 to 5.")))
    if entry.identified_on is None:
        found.append(("identified_on", _l("Give the date the risk was identified.")))
    codes = (entry.plan_measures or "").strip()
    if codes and (len(codes) > MAX_MEASURES or not MEASURE_CODES.match(codes)):
        found.append(("plan_measures", _l("Write the plan's measure codes separated by "
                                          "commas, e.g. 1.6, 2.2.")))
    if entry.review_on and entry.identified_on and entry.review_on < entry.identified_on:
        found.append(("review_on", _l("The review date cannot be before the date the risk "
                                      "was identified.")))
    if entry.status is RiskStatus.REMEDIATED and entry.remediated_on is None:
        found.append(("remediated_on", _l("Give the date the vulnerability was remedied.")))
    if entry.remediated_on and entry.identified_on and entry.remediated_on < entry.identified_on:
        found.append(("remediated_on", _l("The remedy cannot be dated before the risk was "
                                          "identified.")))
    return found


def _normalised_codes(codes: str) -> str:
    return ", ".join(part.strip() for part in re.split(r"[,;]", codes) if part.strip())


def _validated(entry: RiskEntry) -> RiskEntry:
    found = problems(entry)
    if found:
        field, message = found[0]
        raise RiskRefused(message, field=field)
    values = asdict(entry)
    for name in ("activity", "description", "owner", "causes", "prevention", "remediation"):
        values[name] = (values[name] or "").strip()
    values["plan_measures"] = _normalised_codes(entry.plan_measures or "")
    return RiskEntry(**values)


def measure_codes(risk: CorruptionRisk) -> list[str]:
    return [code for code in risk.plan_measures.split(", ") if code]


def risks(member: StaffMember, *, status: RiskStatus | None = None) -> list[CorruptionRisk]:
    """The institution's risks, highest exposure first."""
    require_role(member, Role.COORDINATOR)
    query = select(CorruptionRisk).where(CorruptionRisk.institution_id == member.institution_id)
    if status is not None:
        query = query.where(CorruptionRisk.status == status)
    found = list(db.session.scalars(query.order_by(CorruptionRisk.id)))
    return sorted(found, key=lambda r: (-(r.probability * r.impact), r.activity.casefold()))


def risks_in(member: StaffMember, period: Period) -> list[CorruptionRisk]:
    """The risks on the register during `period`: identified by its end and not closed or
    remedied before it began (Anexa C reports on these)."""
    return [risk for risk in risks(member)
            if risk.identified_on <= period.last_day
            and not (risk.remediated_on and risk.remediated_on < period.first_day)]


def get(member: StaffMember, risk_id: int) -> CorruptionRisk:
    require_role(member, Role.COORDINATOR)
    risk = db.session.get(CorruptionRisk, risk_id)
    if risk is None or risk.institution_id != member.institution_id:
        raise RiskNotFound(_l("This risk does not exist (any more)."))
    return risk


def _audited(risk: CorruptionRisk) -> dict:
    """What the log keeps of a risk: its ratings and dates, not its wording."""
    return {"id": risk.id, "probability": risk.probability, "impact": risk.impact,
            "status": risk.status.value, "area": risk.area.value if risk.area else None,
            "plan_measures": risk.plan_measures,
            "review_on": risk.review_on.isoformat() if risk.review_on else None,
            "remediated_on": risk.remediated_on.isoformat() if risk.remediated_on else None}


def add(member: StaffMember, entry: RiskEntry) -> CorruptionRisk:
    require_role(member, Role.COORDINATOR)
    entry = _validated(entry)
    risk = CorruptionRisk(institution_id=member.institution_id, created_by_staff_id=member.id,
                          **asdict(entry))
    db.session.add(risk)
    db.session.flush()
    audit.record("risk_added", institution_id=member.institution_id, actor=member,
                 detail=_audited(risk))
    return risk


def update(member: StaffMember, risk_id: int, entry: RiskEntry) -> CorruptionRisk:
    risk = get(member, risk_id)
    entry = _validated(entry)
    changed = [f.name for f in fields(RiskEntry)
               if getattr(risk, f.name) != getattr(entry, f.name)]
    for name in changed:
        setattr(risk, name, getattr(entry, name))
    db.session.flush()
    if changed:
        audit.record("risk_updated", institution_id=member.institution_id, actor=member,
                     detail={**_audited(risk), "fields": changed})
    return risk

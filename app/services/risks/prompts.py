"""Cases feed the register without content: for each case category with cases closed as
substantiated (wholly or partly) in the period, a prompt to review the risks of that area,
with the count and nothing else — no reference, no date of a single case, no text.

The register is shared with the risk owners and the working group, so the count follows the
portal's small-count rule (services/indicators/suppression.py, primary suppression): from 1
to T-1 it reads "<T". A prompt appears for any non-zero count; only its figure is hidden.
The exact figures stay on the coordinator's indicators dashboard."""
from dataclasses import dataclass

from sqlalchemy import func, select

from ...extensions import db
from ...models import (
    Case,
    Category,
    CorruptionRisk,
    Institution,
    Outcome,
    RiskStatus,
    Role,
    StaffMember,
    Status,
)
from ..access.guards import require_role
from ..indicators.periods import Period
from ..indicators.suppression import Shown, shown, threshold_for

FOUND = (Outcome.SUBSTANTIATED, Outcome.PARTIALLY_SUBSTANTIATED)


@dataclass(frozen=True)
class ReviewPrompt:
    area: Category
    cases: Shown  # substantiated cases closed in the period, as it may be shown
    open_risks: int  # risks of that area on the register, not closed


def review_prompts(member: StaffMember, period: Period) -> list[ReviewPrompt]:
    require_role(member, Role.COORDINATOR)
    institution = db.session.get(Institution, member.institution_id)
    threshold = threshold_for(institution)
    counts = db.session.execute(
        select(Case.category, func.count(Case.id))
        .where(Case.institution_id == member.institution_id, Case.status == Status.CLOSED,
               Case.outcome.in_(FOUND), Case.closed_at >= period.start_utc,
               Case.closed_at < period.end_utc)
        .group_by(Case.category)).all()
    open_by_area = dict(db.session.execute(
        select(CorruptionRisk.area, func.count(CorruptionRisk.id))
        .where(CorruptionRisk.institution_id == member.institution_id,
               CorruptionRisk.status != RiskStatus.CLOSED, CorruptionRisk.area.is_not(None))
        .group_by(CorruptionRisk.area)).all())
    prompts = [ReviewPrompt(category, shown(count, threshold), open_by_area.get(category, 0))
               for category, count in counts if count > 0]
    order = list(Category)
    return sorted(prompts, key=lambda p: order.index(p.area))

"""The handler's inbox: case metadata only, filtered and sorted in SQL, no decryption."""
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select

from ..extensions import db
from ..models import Case, Channel, KeyKind, KeyWrap, Regime, Role, StaffMember, Status
from ..models.types import utcnow
from .authz import require_role

PAGE_SIZE = 50


@dataclass
class InboxFilters:
    status: Status | None = None
    channel: Channel | None = None
    regime: Regime | None = None
    overdue: bool = False
    page: int = 1


@dataclass
class InboxPage:
    rows: list[Case]
    total: int
    page: int
    pages: int


def inbox(member: StaffMember, filters: InboxFilters) -> InboxPage:
    """Cases this handler holds a key for, soonest deadline first (closed ones last)."""
    require_role(member, Role.HANDLER)
    holds_key = exists().where(and_(KeyWrap.case_id == Case.id, KeyWrap.staff_id == member.id,
                                    KeyWrap.kind == KeyKind.CASE))
    conditions = [Case.institution_id == member.institution_id, holds_key]
    if filters.status is not None:
        conditions.append(Case.status == filters.status)
    if filters.channel is not None:
        conditions.append(Case.channel == filters.channel)
    if filters.regime is not None:
        conditions.append(Case.regime == filters.regime)
    if filters.overdue:
        conditions.append(Case.next_deadline_at < utcnow())
    total = db.session.scalar(select(func.count(Case.id)).where(*conditions))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    rows = db.session.scalars(
        select(Case).where(*conditions)
        .order_by(Case.next_deadline_at.asc().nulls_last(), Case.received_at.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return InboxPage(rows=list(rows), total=total, page=page, pages=pages)

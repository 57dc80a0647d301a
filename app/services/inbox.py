"""The handler's inbox: case metadata only, filtered and sorted in SQL, no decryption."""
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select

from ..extensions import db
from ..models import Case, Channel, KeyKind, KeyWrap, Regime, Role, StaffMember, Status
from ..models.types import utcnow
from .authz import require_role

PAGE_SIZE = 50
# Counting every match of a large inbox costs more than the page itself; past this the inbox
# says "more than 1,000" and offers the pages up to it.
COUNT_CAP = 1000


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
    capped: bool  # more matches than COUNT_CAP


def _conditions(member: StaffMember, filters: InboxFilters) -> list:
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
    return conditions


def page_query(member: StaffMember, filters: InboxFilters, page: int = 1):
    """One page, in the order of ix_case_institution_deadline so the database can walk the
    index and stop after PAGE_SIZE rows instead of sorting every case."""
    return (select(Case).where(*_conditions(member, filters))
            .order_by(Case.next_deadline_at.asc().nulls_last(), Case.id)
            .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))


def inbox(member: StaffMember, filters: InboxFilters) -> InboxPage:
    """Cases this handler holds a key for, soonest deadline first (closed ones last)."""
    require_role(member, Role.HANDLER)
    matches = select(Case.id).where(*_conditions(member, filters)).limit(COUNT_CAP + 1)
    total = db.session.scalar(select(func.count()).select_from(matches.subquery()))
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    rows = db.session.scalars(page_query(member, filters, page)).all()
    return InboxPage(rows=list(rows), total=total, page=page, pages=pages, capped=capped)

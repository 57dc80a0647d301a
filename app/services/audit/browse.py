"""The audit log as the administrator reads it: newest first, filtered by action, with the
verdict of the hash-chain check. Entries hold metadata only, never case content."""
from dataclasses import dataclass

from sqlalchemy import func, select

from ...extensions import db
from ...models import AuditEntry, Case, Role, StaffAccount, StaffMember
from ..access.guards import require_role
from . import chain as audit

PAGE_SIZE = 50


@dataclass
class AuditRow:
    entry: AuditEntry
    actor_name: str | None
    case_reference: str | None


@dataclass
class AuditPage:
    rows: list[AuditRow]
    total: int
    page: int
    pages: int
    actions: list[str]
    chain_break: audit.ChainBreak | None
    # False when another institution's chain broke first: audit.verify() stops at the first
    # break, so this institution's chain was not fully checked.
    chain_checked: bool
    entries_checked: int
    # The chain's head, to be noted outside the database (see app.services.audit.chain).
    head_short: str | None = None
    head_full: str | None = None
    head_length: int = 0


def audit_page(admin: StaffMember, *, action: str | None = None, page: int = 1) -> AuditPage:
    require_role(admin, Role.ADMIN)
    institution_id = admin.institution_id
    conditions = [AuditEntry.institution_id == institution_id]
    if action:
        conditions.append(AuditEntry.action == action)
    total = db.session.execute(
        select(func.count(AuditEntry.id)).where(*conditions)).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = db.session.execute(
        select(AuditEntry, StaffAccount.name, Case.reference)
        .outerjoin(StaffMember, StaffMember.id == AuditEntry.actor_staff_id)
        .outerjoin(StaffAccount, StaffAccount.id == StaffMember.account_id)
        .outerjoin(Case, Case.id == AuditEntry.case_id)
        .where(*conditions)
        .order_by(AuditEntry.seq.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    actions = list(db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.institution_id == institution_id)
        .distinct().order_by(AuditEntry.action)))
    chain_break, chain_checked = audit.verify(), True
    if chain_break is not None and chain_break.institution_id != institution_id:
        chain_break, chain_checked = None, False  # not this administrator's chain to read
    checked = db.session.execute(select(func.count(AuditEntry.id)).where(
        AuditEntry.institution_id == institution_id)).scalar_one()
    head = audit.current_head(institution_id)
    return AuditPage(rows=[AuditRow(entry, name, reference) for entry, name, reference in rows],
                     total=total, page=page, pages=pages, actions=actions,
                     chain_break=chain_break, chain_checked=chain_checked,
                     entries_checked=checked,
                     head_short=audit.short_head(head.head_hash) if head else None,
                     head_full=head.head_hash.hex() if head else None,
                     head_length=head.length if head else 0)

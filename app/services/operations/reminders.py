"""Notices queued by the cron run: "deadline near" and "deadline passed" to the handlers of
each open case, and the audit chain's head to the admins once a day.

Each notice is enqueued with a dedupe key (unique in the table): it is queued once however many
runs, on however many nodes, see it."""
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import load_only

from ...extensions import db
from ...models import (
    AuditHead,
    Case,
    Institution,
    KeyKind,
    KeyWrap,
    OutboxMail,
    Role,
    StaffMember,
    Status,
)
from ...models.case import DeadlineKind
from ...models.types import utcnow
from . import notify

REMINDER_BATCH = 500  # cases per query when looking up their handlers


# --- deadline reminders --------------------------------------------------------------------------

def _due_cases(institution: Institution, now: datetime) -> list[Case]:
    """Open cases of the institution whose next deadline is within its reminder window."""
    acknowledge_until = now + timedelta(days=institution.acknowledge_reminder_days)
    answer_until = now + timedelta(days=institution.answer_reminder_days)
    return list(db.session.scalars(
        select(Case).where(
            Case.institution_id == institution.id,
            Case.status != Status.CLOSED,
            Case.next_deadline_at.is_not(None),
            Case.next_deadline_at <= max(acknowledge_until, answer_until),
            or_(and_(Case.next_deadline_kind == DeadlineKind.ACKNOWLEDGE,
                     Case.next_deadline_at <= acknowledge_until),
                and_(Case.next_deadline_kind != DeadlineKind.ACKNOWLEDGE,
                     Case.next_deadline_at <= answer_until)))
        .options(load_only(Case.id, Case.institution_id, Case.reference,
                           Case.next_deadline_at, Case.next_deadline_kind))
        .order_by(Case.next_deadline_at, Case.id)))


def _handlers_by_case(case_ids: list[int]) -> dict[int, list[StaffMember]]:
    """Active handlers holding a case key, per case."""
    holders: dict[int, list[StaffMember]] = defaultdict(list)
    for start in range(0, len(case_ids), REMINDER_BATCH):
        rows = db.session.execute(
            select(KeyWrap.case_id, StaffMember)
            .join(StaffMember, StaffMember.id == KeyWrap.staff_id)
            .where(KeyWrap.case_id.in_(case_ids[start:start + REMINDER_BATCH]),
                   KeyWrap.kind == KeyKind.CASE, KeyWrap.staff_id.is_not(None),
                   StaffMember.active.is_(True))
            .order_by(KeyWrap.case_id, StaffMember.id))
        for case_id, member in rows:
            if member.has_role(Role.HANDLER):
                holders[case_id].append(member)
    return holders


def _existing_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), REMINDER_BATCH):
        found.update(db.session.scalars(select(OutboxMail.dedupe_key).where(
            OutboxMail.dedupe_key.in_(keys[start:start + REMINDER_BATCH]))))
    return found


def reminder_key(case: Case, member: StaffMember, kind: str) -> str:
    prefix = "near" if kind == "deadline_near" else "overdue"
    return (f"{prefix}:{case.id}:{case.next_deadline_kind}:{case.next_deadline_at:%Y%m%d}:"
            f"{member.id}")


def queue_deadline_reminders(now: datetime | None = None) -> int:
    """Queue "deadline near" and "deadline passed" notices for the handlers of each open case,
    each at most once per deadline. Returns how many this run queued."""
    now = now or utcnow()
    queued = 0
    for institution_id in db.session.scalars(select(Institution.id).order_by(Institution.id)).all():
        institution = db.session.get_one(Institution, institution_id)
        cases = _due_cases(institution, now)
        holders = _handlers_by_case([case.id for case in cases])
        notices = []
        for case in cases:
            if case.next_deadline_at is None:  # not selected by _due_cases
                continue
            kind = "deadline_overdue" if case.next_deadline_at <= now else "deadline_near"
            notices.append((case, kind, [(member, reminder_key(case, member, kind))
                                         for member in holders.get(case.id, [])]))
        already = _existing_keys([key for *_, members in notices for _, key in members])
        for case, kind, members in notices:
            for member, key in members:
                if key not in already and notify.deadline_notice(case, member, kind,
                                                                 dedupe_key=key) is not None:
                    queued += 1
            # enqueue() checks the key again and a concurrent run's insert loses to the unique
            # index; committing per case keeps the other nodes' waits short.
            db.session.commit()
    return queued


# --- the audit chain's head, mailed to the admins --------------------------------------------------

def queue_audit_heads(now: datetime | None = None) -> int:
    """Once a day, each active admin gets the audit chain's head (a hash, nothing else), so
    that a later `flask audit verify --head` can tell whether entries were cut."""
    now = now or utcnow()
    day = f"{now:%Y-%m-%d}"
    queued = 0
    for head in db.session.scalars(select(AuditHead).order_by(AuditHead.institution_id)).all():
        admins = [member for member in db.session.scalars(select(StaffMember).where(
            StaffMember.institution_id == head.institution_id, StaffMember.active.is_(True))
            .order_by(StaffMember.id)) if member.has_role(Role.ADMIN)]
        queued += notify.audit_head(head.institution_id, admins, head.head_hash, head.length,
                                    day)
        db.session.commit()
    return queued

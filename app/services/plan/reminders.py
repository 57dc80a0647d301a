"""Content-free notices of the plan's due dates, through the outbox: "a measure you are
responsible for falls due on …, sign in". The mail names neither the measure nor its text
(the plan is public, but a mailbox is not the place to keep what the institution is behind
on). Sent to the measure's staff accounts, or to the coordinators when it has none; each at
most once per measure, due date and kind (the outbox's dedupe key)."""
from datetime import datetime, timedelta

from sqlalchemy import select

from ...extensions import db
from ...models import Institution, Role, StaffMember
from ...models.types import utcnow
from ..localtime import local_today
from ..operations import notify
from . import access, editing
from .schedule import due_items

REMIND_DAYS_BEFORE = 14


def _recipients(measure, coordinators: list[StaffMember]) -> list[StaffMember]:
    assigned = [member for member in editing.assignees(measure) if member.active]
    return assigned or coordinators


def queue_plan_reminders(now: datetime | None = None) -> int:
    now = now or utcnow()
    today = local_today(now)
    queued = 0
    for institution_id in db.session.scalars(select(Institution.id).order_by(Institution.id)).all():
        plan = access.current_plan(institution_id)
        if plan is None:
            continue
        coordinators = [member for member in db.session.scalars(select(StaffMember).where(
            StaffMember.institution_id == institution_id, StaffMember.active.is_(True))
            .order_by(StaffMember.id)) if member.has_role(Role.COORDINATOR)]
        for due in due_items(plan, today.year, today):
            if not due.overdue and due.day > today + timedelta(days=REMIND_DAYS_BEFORE):
                continue
            state = "overdue" if due.overdue else "near"
            for member in _recipients(due.measure, coordinators):
                key = f"plan:{state}:{due.measure.id}:{due.day:%Y%m%d}:{member.id}"
                if notify.plan_due_notice(institution_id, member, due.day, due.overdue,
                                          dedupe_key=key) is not None:
                    queued += 1
        db.session.commit()
    return queued

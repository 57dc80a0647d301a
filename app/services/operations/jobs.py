"""Background work, run by cron or a systemd timer: `flask --app wsgi jobs run`.

One run does every step in order (sessions, orphan files, retention, reminders, the audit head,
outbox delivery), and a step that fails is logged and reported without holding back the others.
Safe on several nodes at once: outbox delivery claims each mail (see outbox) and every reminder
carries a dedupe key (see reminders).
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from ...extensions import db
from ..intake import followup
from ..plan.reminders import queue_plan_reminders
from ..staff import sign_in as staff_auth
from . import orphans, retention
from .outbox import DeliveryReport, deliver_outbox, pending_count, undeliverable_count
from .reminders import queue_audit_heads, queue_deadline_reminders


@dataclass
class RunReport:
    reminders_queued: int
    delivery: DeliveryReport
    undeliverable: int  # mails set aside after GIVE_UP_AFTER; need an operator's attention
    errors: list[str]  # steps that failed with an exception (logged with their traceback)
    cases_purged: int = 0  # retention period over (see app.services.operations.retention)
    purge_notices_queued: int = 0
    orphan_files_removed: int = 0  # left by a process killed mid-upload


def purge_expired_sessions() -> None:
    """Delete expired reporter and staff sessions (their sealed keys go with them)."""
    idle = timedelta(minutes=current_app.config["REPORTER_SESSION_IDLE_MINUTES"])
    followup.purge_expired_sessions(idle)
    staff_auth.purge_expired_sessions()
    db.session.commit()


def run_all(now: datetime | None = None, limit: int = 100) -> RunReport:
    """Everything a cron run does, in order: sessions, retention (purges and their notices),
    reminders, then delivery (so that the notices just queued go out in the same run). A step
    that fails is logged and reported, and the others still run: a broken reminder must not
    hold back the mail already queued."""
    errors: list[str] = []

    def step(name: str, work: Callable, default):
        try:
            return work()
        except Exception as error:
            db.session.rollback()
            current_app.logger.exception("jobs: %s failed", name)
            errors.append(f"{name}: {type(error).__name__}")
            return default

    step("purge sessions", purge_expired_sessions, None)
    orphans_removed = step("orphan files", orphans.sweep, 0)
    purging = step("retention", lambda: retention.run(now), None)
    queued = step("deadline reminders", lambda: queue_deadline_reminders(now), 0)
    step("audit head", lambda: queue_audit_heads(now), 0)
    queued += step("plan reminders", lambda: queue_plan_reminders(now), 0)
    delivery = step("outbox delivery", lambda: deliver_outbox(limit=limit, now=now), None)
    if delivery is None:
        delivery = DeliveryReport(sent=0, failed=0, remaining=pending_count())
    return RunReport(reminders_queued=queued, delivery=delivery,
                     undeliverable=undeliverable_count(), errors=errors,
                     cases_purged=purging.purged if purging else 0,
                     purge_notices_queued=purging.notices_queued if purging else 0,
                     orphan_files_removed=orphans_removed)

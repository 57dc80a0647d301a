"""Retention: a closed case is deleted for good once the institution's period has passed
(default 5 years after closing). `flask --app wsgi jobs run` does it.

What goes: the report, the reporter's identity and contact address, every key wrap and the
receipt (so nobody can open what might remain), the messages' text, notes, identity requests,
reporter sessions, unsent notices to the reporter, and the evidence files (overwritten, then
removed). What stays is the
metadata the statistics count (reference, dates, channel and platform, category, regime,
status, outcome, anonymous or not), the case's events, and each message as an empty stub (who
wrote it and when: the feedback indicator counts the first answer to the reporter), so the
indicators of past years do not change.

Several nodes may run it at once: candidates are read in batches with FOR UPDATE SKIP LOCKED
(PostgreSQL), and each case is claimed by a conditional UPDATE, so it is purged, and audited,
exactly once (this also holds on SQLite, which serialises writers instead).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, exists, select, update

from ...extensions import db
from ...models import (
    Attachment,
    Case,
    IdentityRequest,
    Institution,
    KeyKind,
    KeyWrap,
    Message,
    Note,
    OutboxMail,
    Receipt,
    ReporterSession,
    Role,
    StaffMember,
    Status,
)
from ...models.types import utcnow
from ..access.guards import require_role
from ..audit import chain as audit
from ..casework import deadlines
from ..intake.evidence import upload_path
from . import notify
from .shredding import shred_after_commit, zero_freed_pages

DEFAULT_YEARS = 5
NOTICE_WITHIN = timedelta(days=30)
BATCH = 50
LIST_LIMIT = 200
PURGED = "case_purged"
NOTICE = "purge_near"
# The purge date is add_months(closed_at, 12 * years): a case closed on 29 February is due on
# 28 February. Queries take a day more and the exact date is checked in Python.
_SLACK = timedelta(days=1)
# Rows of a case that hold (or open) what the reporter gave, deleted with it.
_CASE_ROWS = (Attachment, Note, KeyWrap, Receipt, ReporterSession, IdentityRequest)


@dataclass
class PurgeSoon:
    case: Case
    purge_on: datetime


@dataclass
class RetentionReport:
    purged: int
    notices_queued: int


def retention_years(institution: Institution) -> int:
    return institution.retention_years or DEFAULT_YEARS


def purge_date(closed_at: datetime, years: int) -> datetime:
    return deadlines.add_months(closed_at, 12 * years)


def _closed_until(moment: datetime, years: int) -> datetime:
    """Every case due by `moment` was closed before this (a day of slack for 29 February)."""
    return deadlines.add_months(moment, -12 * years) + _SLACK


def _not_purged(institution_id: int):
    return (Case.institution_id == institution_id, Case.status == Status.CLOSED,
            Case.purged_at.is_(None), Case.closed_at.is_not(None))


# --- purging -------------------------------------------------------------------------------------

def purge_expired(now: datetime | None = None, batch: int = BATCH) -> int:
    """Purge every case whose retention period has ended; returns how many this run purged.
    Commits after each batch; the batch's files are shredded once it has committed."""
    now = now or utcnow()
    purged = 0
    institutions = db.session.execute(select(Institution.id, Institution.retention_years)
                                      .order_by(Institution.id)).all()
    for institution_id, years in institutions:
        years = years or DEFAULT_YEARS
        after_id = 0
        while True:
            rows = db.session.execute(
                select(Case.id, Case.closed_at)
                .where(*_not_purged(institution_id), Case.closed_at <= _closed_until(now, years),
                       Case.id > after_id)
                .order_by(Case.id).limit(batch)
                .with_for_update(skip_locked=True)).all()
            if not rows:
                break
            zero_freed_pages()
            for case_id, closed_at in rows:
                # closed_at <= … above leaves out open cases (NULL closed_at)
                if closed_at is not None and purge_date(closed_at, years) <= now \
                        and _purge(case_id, now):
                    purged += 1
            after_id = rows[-1].id
            db.session.commit()
    if purged:
        current_app.logger.info("retention: %d case(s) purged", purged)
    return purged


def _purge(case_id: int, now: datetime) -> bool:
    """Purge one case in the current transaction; False when another run claimed it first."""
    claimed = db.session.execute(
        update(Case).where(Case.id == case_id, Case.purged_at.is_(None))
        # updated_at keeps the last work on the case; purged_at says when it was purged.
        .values(content=None, identity=None, notify=None, purged_at=now,
                meeting_requested=False, updated_at=Case.updated_at)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult, typed as Result
        return False
    for storage_name in db.session.scalars(
            select(Attachment.storage_name).where(Attachment.case_id == case_id)).all():
        shred_after_commit(upload_path(storage_name))
    for model in _CASE_ROWS:
        db.session.execute(delete(model).where(model.case_id == case_id))
    db.session.execute(update(Message).where(Message.case_id == case_id).values(body=b"")
                       .execution_options(synchronize_session=False))
    # A notice to the reporter not yet sent holds their address in clear.
    db.session.execute(delete(OutboxMail).where(OutboxMail.case_id == case_id,
                                                OutboxMail.sent_at.is_(None)))
    case = db.session.get_one(Case, case_id)
    audit.record(PURGED, institution_id=case.institution_id, case=case,
                 detail={"reference": case.reference})
    return True


def purged_case_for_handler(member: StaffMember, case_id: int) -> Case | None:
    """A purged case of the handler's institution (its metadata only: no key opens it any
    more), or None when the case is not purged, not theirs, or does not exist."""
    require_role(member, Role.HANDLER)
    case = db.session.get(Case, case_id)
    if case is None or case.purged_at is None or case.institution_id != member.institution_id:
        return None
    return case


# --- cases approaching their purge ---------------------------------------------------------------

def _soon(institution: Institution, now: datetime, *conditions) -> list[PurgeSoon]:
    years = retention_years(institution)
    until = now + NOTICE_WITHIN
    cases = db.session.scalars(
        select(Case).where(*_not_purged(institution.id),
                           Case.closed_at <= _closed_until(until, years), *conditions)
        .order_by(Case.closed_at, Case.id).limit(LIST_LIMIT))
    found = [PurgeSoon(case, purge_date(case.closed_at, years)) for case in cases
             if case.closed_at is not None]  # always, by the closed_at condition
    return [item for item in found if item.purge_on <= until]


def approaching_purge(member: StaffMember, now: datetime | None = None) -> list[PurgeSoon]:
    """Closed cases this handler holds a key for that are purged within NOTICE_WITHIN."""
    require_role(member, Role.HANDLER)
    holds_key = exists().where(KeyWrap.case_id == Case.id, KeyWrap.staff_id == member.id,
                               KeyWrap.kind == KeyKind.CASE)
    institution = db.session.get_one(Institution, member.institution_id)
    return _soon(institution, now or utcnow(), holds_key)


def _key_holding_handlers(case: Case) -> list[StaffMember]:
    members = db.session.scalars(
        select(StaffMember).join(KeyWrap, KeyWrap.staff_id == StaffMember.id)
        .where(KeyWrap.case_id == case.id, KeyWrap.kind == KeyKind.CASE,
               StaffMember.active.is_(True))
        .order_by(StaffMember.id))
    return [member for member in members if member.has_role(Role.HANDLER)]


def notice_key(item: PurgeSoon, member: StaffMember) -> str:
    return f"purge:{item.case.id}:{item.purge_on:%Y%m%d}:{member.id}"


def queue_purge_notices(now: datetime | None = None) -> int:
    """Tell each handler holding the key, once per case and purge date, that the case will be
    purged (reference and date only). Returns how many notices this run queued."""
    now = now or utcnow()
    queued = 0
    for institution in db.session.scalars(select(Institution).order_by(Institution.id)).all():
        for item in _soon(institution, now):
            members = _key_holding_handlers(item.case)
            if not members:
                continue
            subject, body = notify._render(NOTICE, case=item.case, purge_on=item.purge_on)
            for member in members:
                if notify.enqueue(item.case.institution_id, NOTICE, member.email, subject, body,
                                  dedupe_key=notice_key(item, member)) is not None:
                    queued += 1
            db.session.commit()  # short transactions keep concurrent runs' waits short
    return queued


def run(now: datetime | None = None) -> RetentionReport:
    """The retention step of `jobs run`: purge what is due, then announce what comes next."""
    purged = purge_expired(now)
    return RetentionReport(purged=purged, notices_queued=queue_purge_notices(now))

"""Retention: a closed case is deleted for good once its period has passed, by `jobs run`.

What must hold: nothing is purged a moment early (29 February included); everything that holds
or opens what the reporter gave is gone, the files' bytes included; the metadata the statistics
count is untouched, so last years' indicators stay the same; the purge is audited; the old
receipt no longer opens anything and says no more than for any wrong receipt; handlers see the
cases due within 30 days and are mailed once about each; several runs at once purge each case
exactly once.
"""
import io
import json
import os
import secrets
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Attachment,
    AuditEntry,
    Case,
    EventKind,
    IdentityRequest,
    KeyWrap,
    Message,
    Note,
    OutboxMail,
    Outcome,
    Receipt,
    Regime,
    ReporterSession,
    Role,
    Status,
)
from app.models.types import utcnow
from app.services.access.opened import open_case
from app.services.audit import chain as audit
from app.services.casework import deadlines, messages, notes
from app.services.casework.events import record_event
from app.services.indicators import compute as stats
from app.services.indicators.periods import Period
from app.services.intake.followup import WRONG_RECEIPT
from app.services.operations import retention
from app.services.staff.members import unlock_private_key
from app.services.staff.sign_in import StaffAccess
from tests.conftest import CSRF_RE, csrf_token
from tests.support.database import every_stored_value

# Everything on a case row that is not what the reporter gave: it must survive the purge.
ERASED = {"content", "identity", "notify", "purged_at"}


def years_ago(years: int, now: datetime | None = None) -> datetime:
    return deadlines.add_months(now or utcnow(), -12 * years)


def access_for(member) -> StaffAccess:
    return StaffAccess(member=member, private_key=unlock_private_key(member, member.password),
                       session=None)


def closed_case(submit, closed_at: datetime, **fields) -> tuple[Case, str]:
    """A web report, acknowledged, answered and closed at `closed_at`; returns it and its
    receipt."""
    _, receipt = submit(**fields)
    case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
    case.received_at = closed_at - timedelta(days=40)
    case.acknowledged_at = closed_at - timedelta(days=38)
    case.regime, case.status = Regime.WHISTLEBLOWER, Status.CLOSED
    case.outcome, case.closed_at = Outcome.SUBSTANTIATED, closed_at
    deadlines.refresh(case)
    record_event(case, EventKind.CLOSED, at=closed_at)
    db.session.commit()
    return case, receipt


def metadata(case_id: int) -> dict:
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    return {column.name: getattr(case, column.key) for column in Case.__table__.columns
            if column.name not in ERASED}


def rows_of(case_id: int) -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model).where(
        model.case_id == case_id))
        for model in (Attachment, KeyWrap, Receipt, ReporterSession, Note, IdentityRequest)}


def post_message(client, receipt: str, body: str):
    token = csrf_token(client, "/follow-up")
    client.post("/follow-up", data={"receipt": receipt, "csrf_token": token})
    token = csrf_token(client, "/follow-up/case")
    return client.post("/follow-up/message", data={"body": body, "csrf_token": token})


def run_jobs(app):
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    return result


def test_a_case_is_purged_after_its_period_and_not_a_day_before(
        app, client, submit, follow_up, make_handler, sign_in, upload_folder,
        migrated_database):
    handler = make_handler()
    marker = "zq" + secrets.token_hex(6)
    evidence = f"evidence {marker} ".encode() * 5000
    now = utcnow()
    due, receipt = closed_case(
        submit, years_ago(5, now) - timedelta(hours=1), what_happened=f"{marker} report",
        identity_choice="identified", name=f"{marker} name", email=f"{marker}@example.org",
        files=[(io.BytesIO(evidence), f"{marker}.pdf")])
    kept, kept_receipt = closed_case(submit, years_ago(5, now) + timedelta(days=1),
                                     what_happened="not yet")
    still_open, _ = closed_case(submit, years_ago(9, now), what_happened="open for years")
    still_open.status, still_open.closed_at, still_open.outcome = Status.INVESTIGATION, None, None
    db.session.commit()

    # Everything a case accumulates: the reporter's message and session, a note, an identity
    # request, a staff answer.
    assert post_message(client, receipt, f"{marker} message").status_code == 302
    access = access_for(handler)
    notes.add_note(open_case(access, due.id), f"{marker} note")
    db.session.add(IdentityRequest(institution_id=due.institution_id, case_id=due.id,
                                   requested_by_staff_id=handler.id,
                                   reason_sealed=b"sealed reason"))
    messages.message_reporter(open_case(access, due.id), f"{marker} answer", [])
    db.session.commit()
    before = rows_of(due.id)
    assert all(before.values()), before
    pending = db.session.scalar(select(OutboxMail).where(
        OutboxMail.case_id == due.id, OutboxMail.sent_at.is_(None)))
    assert pending.recipient == "" and pending.sealed  # the address only sealed
    staff_messages = db.session.scalars(select(Message.created_at).where(
        Message.case_id == due.id).order_by(Message.id)).all()
    storage_name = db.session.scalar(select(Attachment.storage_name).where(
        Attachment.case_id == due.id))
    path = os.path.join(upload_folder, storage_name)
    on_disk = open(path, "rb")  # the inode outlives the name: we can see what was left
    stored_size = os.path.getsize(path)
    expected = {case.id: metadata(case.id) for case in (due, kept, still_open)}
    year = Period.year(due.received_at.year)
    indicators_before = stats.compute(due.institution_id, year, now=now)

    result = run_jobs(app)
    assert "retention" not in result.output  # no failed step

    db.session.expire_all()
    purged = db.session.get(Case, due.id)
    assert purged.purged_at is not None
    assert purged.content is None and purged.identity is None and purged.notify is None
    assert metadata(due.id) == expected[due.id], "the statistics' metadata is untouched"
    assert rows_of(due.id) == dict.fromkeys(before, 0)
    assert db.session.scalar(select(OutboxMail.id).where(OutboxMail.case_id == due.id)) is None
    # Messages stay as empty stubs: the feedback indicator counts when the reporter was answered.
    stubs = db.session.scalars(select(Message).where(Message.case_id == due.id)
                               .order_by(Message.id)).all()
    assert [m.created_at for m in stubs] == staff_messages and all(m.body == b"" for m in stubs)
    assert stats.compute(due.institution_id, year, now=now) == indicators_before

    # The file: overwritten in place with random bytes, flushed, then removed.
    assert not os.path.exists(path)
    with on_disk:
        left = on_disk.read()
    assert len(left) == stored_size and marker.encode() not in left
    assert evidence[:64] not in left
    assert marker.encode() not in every_stored_value(migrated_database)

    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "case_purged")).all()
    assert [(e.case_id, json.loads(e.detail)) for e in entries] == \
        [(due.id, {"reference": due.reference})]
    assert entries[0].actor_staff_id is None and audit.verify() is None

    # Not a day early, and never an open case.
    for case in (kept, still_open):
        assert db.session.get(Case, case.id).purged_at is None
        assert metadata(case.id) == expected[case.id]
        assert db.session.get(Case, case.id).content is not None

    # The old receipt opens nothing, and says exactly what any wrong receipt says.
    wrong = follow_up("1234 5678 9012 3456").get_data(as_text=True)
    response = follow_up(receipt)
    assert response.status_code == 400
    with force_locale("en"):  # the page's language
        assert str(WRONG_RECEIPT) in response.get_data(as_text=True)
    # The pages may differ only in their CSRF tokens (which carry the second they were made).
    assert CSRF_RE.sub("", response.get_data(as_text=True).replace(receipt, "")) == \
        CSRF_RE.sub("", wrong.replace("1234 5678 9012 3456", ""))
    assert follow_up(kept_receipt).status_code == 302

    # The handler's page shows what is left, and when it was purged.
    staff = sign_in(handler)
    page = staff.get(f"/staff/cases/{due.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and due.reference in text and "Purged on" in text
    assert marker not in text and f'action="/staff/cases/{due.id}/redact"' not in text
    assert staff.get(f"/staff/cases/{due.id}/files/1").status_code == 403
    # …and the purged case is no one's to work on any more.
    token = csrf_token(staff, f"/staff/cases/{kept.id}")
    assert staff.post(f"/staff/cases/{due.id}/reopen",
                      data={"csrf_token": token}).status_code == 403


def test_the_period_is_the_institutions_and_29_february_counts_as_28(app, submit, make_handler,
                                                                      institution):
    make_handler()
    leap, _ = closed_case(submit, datetime(2024, 2, 29, 12, 0, tzinfo=UTC))
    later, _ = closed_case(submit, datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    assert retention.purge_date(leap.closed_at, 5) == datetime(2029, 2, 28, 12, 0, tzinfo=UTC)

    assert retention.purge_expired(now=datetime(2029, 2, 28, 11, 59, tzinfo=UTC)) == 0
    assert retention.purge_expired(now=datetime(2029, 2, 28, 12, 0, tzinfo=UTC)) == 1
    assert db.session.get(Case, leap.id).purged_at is not None
    assert db.session.get(Case, later.id).purged_at is None

    institution.retention_years = 1
    db.session.commit()
    assert retention.purge_expired(now=datetime(2026, 3, 1, 11, 0, tzinfo=UTC)) == 0
    assert retention.purge_expired(now=datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) == 1
    assert retention.purge_expired(now=datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) == 0


def test_last_years_indicators_do_not_change(app, submit, make_handler, sign_in):
    handler = make_handler()
    now = utcnow()
    closed_at = years_ago(5, now) - timedelta(days=3)
    cases = [closed_case(submit, closed_at - timedelta(days=n), what_happened=f"report {n}",
                         category=category)[0]
             for n, category in enumerate(("bribery", "bribery", "abuse_of_office", "other"))]
    access = access_for(handler)
    for case in cases[:2]:  # answered before closing: the feedback clock counts the message
        message = messages.message_reporter(open_case(access, case.id),
                                            "We are looking into it.", [])
        message.created_at = case.closed_at - timedelta(days=20)
    db.session.commit()
    periods = {Period.year(case.received_at.year) for case in cases}
    before = {period: stats.compute(cases[0].institution_id, period, now=now)
              for period in periods}
    counts_before = Counter((c.channel, c.category, c.regime, c.outcome, c.anonymous)
                            for c in db.session.scalars(select(Case)))

    assert retention.purge_expired(now=now) == len(cases)

    db.session.expire_all()
    for period, indicators in before.items():
        assert stats.compute(cases[0].institution_id, period, now=now) == indicators
    assert Counter((c.channel, c.category, c.regime, c.outcome, c.anonymous)
                   for c in db.session.scalars(select(Case))) == counts_before


def test_handlers_see_the_cases_purged_within_30_days_and_are_mailed_once(
        app, submit, make_handler, sign_in):
    ana, ion = make_handler("Ana Popescu"), make_handler("Ion Ionescu")
    excluded = make_handler("Dan Exclus")
    coordinator = make_handler("Maria Coord", roles=(Role.COORDINATOR,))
    now = utcnow()
    soon, _ = closed_case(submit, years_ago(5, now) + timedelta(days=10),
                          what_happened="soon secret", excluded=str(excluded.id))
    later, _ = closed_case(submit, years_ago(5, now) + timedelta(days=31))

    listed = retention.approaching_purge(ana, now=now)
    assert [(item.case.id, item.purge_on) for item in listed] == \
        [(soon.id, retention.purge_date(soon.closed_at, 5))]
    assert retention.approaching_purge(excluded, now=now) == []

    inbox = sign_in(ana).get("/staff/cases").get_data(as_text=True)
    assert "Deleted soon" in inbox and f'/staff/cases/{soon.id}"' in inbox
    assert "Deleted soon" not in sign_in(excluded).get("/staff/cases").get_data(as_text=True)

    run_jobs(app)
    run_jobs(app)
    db.session.expire_all()
    notices = db.session.scalars(select(OutboxMail).where(OutboxMail.kind == "purge_near")).all()
    assert len(notices) == 2
    assert {mail.dedupe_key.rsplit(":", 1)[1] for mail in notices} == {str(ana.id), str(ion.id)}
    for mail in notices:
        assert soon.reference in mail.subject and soon.reference in mail.body
        assert later.reference not in mail.body and "soon secret" not in mail.body
        assert coordinator.email != mail.recipient
    assert retention.queue_purge_notices(now=now) == 0
    assert db.session.get(Case, soon.id).purged_at is None


def test_runs_on_several_nodes_at_once_purge_each_case_once(app, submit, make_handler,
                                                             upload_folder):
    make_handler()
    now = utcnow()
    cases = [closed_case(submit, years_ago(5, now) - timedelta(days=n + 1),
                         files=[(io.BytesIO(b"file %d" % n), f"f{n}.txt")])[0]
             for n in range(8)]
    assert len(os.listdir(upload_folder)) == 8
    barrier, results, errors = threading.Barrier(3), [], []

    def node():
        try:
            with app.app_context():
                barrier.wait()
                results.append(retention.purge_expired(now=now, batch=2))
        except Exception as error:  # reported below with the test's failure
            errors.append(error)

    threads = [threading.Thread(target=node) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(results) == len(cases)
    db.session.expire_all()
    audited = Counter(db.session.scalars(select(AuditEntry.case_id).where(
        AuditEntry.action == "case_purged")))
    assert audited == Counter({case.id: 1 for case in cases})
    assert all(db.session.get(Case, case.id).purged_at for case in cases)
    assert os.listdir(upload_folder) == [] and audit.verify() is None

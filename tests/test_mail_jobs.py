"""Mail through the outbox, delivered by `flask jobs run` to a real SMTP server (aiosmtpd).

What must hold: a mail says only that something happened (never report content, names or the
receipt); the address is erased once the mail has gone; an SMTP outage loses nothing and sends
nothing twice; reminders go once per deadline to the handlers who hold the case's key; runs on
several nodes at once send each mail exactly once.
"""
import io
import re
import secrets
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, OutboxMail, Regime, Status
from app.models.types import utcnow
from app.services.access import keys as access
from app.services.casework import deadlines
from app.services.operations import jobs, notify
from app.services.operations import outbox as delivery
from app.services.operations import reminders as reminder_jobs
from app.services.staff.members import unlock_private_key
from tests.support import mail as mail_fixtures
from tests.support.database import stored_row_values
from tests.support.mail import SmtpServer

# The app mails through a real SMTP server on a free port.
smtp_port, app_config = mail_fixtures.smtp_port, mail_fixtures.app_config

SENDER = "avertizor@baltati.example"
REFERENCE_RE = re.compile(r"SES-\d{4}-\d+")


@pytest.fixture
def smtp_down(smtp_port):
    """Nothing listens on the port until the test calls start()."""
    server = SmtpServer(smtp_port)
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_down):
    return smtp_down.start()


def jobs_run(app):
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    return result


def outbox(kind: str | None = None) -> list[OutboxMail]:
    db.session.expire_all()
    query = select(OutboxMail).order_by(OutboxMail.id)
    if kind:
        query = query.where(OutboxMail.kind == kind)
    return list(db.session.scalars(query))


def reference_in(text: str) -> str:
    return REFERENCE_RE.search(text).group(0)


def marked_report(marker: str, reporter_email: str) -> dict:
    """A report with the marker in every field the reporter types, and in a file name."""
    return dict(
        what_happened=f"{marker}-what", when_where=f"{marker}-where",
        persons_involved=f"{marker}-who", how_known=f"{marker}-how",
        identity_choice="identified", name=f"{marker}-name", email=reporter_email,
        phone="+40 722 123 456",
        files=[(io.BytesIO(f"evidence {marker}-content".encode()), f"{marker}-file.txt")])


# --- tests ---------------------------------------------------------------------------------------

def test_new_report_mail_says_only_the_reference_and_forgets_the_address(
        app, submit, make_handler, smtp):
    handler = make_handler()
    marker = "zq" + secrets.token_hex(6)
    reporter_email = f"reporter-{secrets.token_hex(4)}@example.org"
    response, receipt = submit(**marked_report(marker, reporter_email))
    assert response.status_code == 200 and receipt

    case = db.session.scalar(select(Case))
    [queued] = outbox()
    assert (queued.kind, queued.recipient, queued.sent_at) == ("new_report", handler.email, None)

    result = jobs_run(app)
    assert "Mails sent: 1, failed: 0, waiting: 0" in result.output

    [mail] = smtp.inbox.messages
    assert mail.recipients == [handler.email]
    assert mail.message["From"] == SENDER
    assert case.reference in mail.body and case.reference in mail.message["Subject"]
    assert f"{app.config['PUBLIC_URL']}/staff/" in mail.body
    for secret in (marker, reporter_email, "+40 722", receipt,
                   " ".join(receipt[i:i + 4] for i in range(0, 16, 4))):
        assert secret not in mail.text
        assert secret.encode() not in mail.raw

    [delivered] = outbox()
    assert delivered.sent_at is not None and delivered.recipient == ""
    assert delivered.attempts == 1 and delivered.last_error is None
    assert stored_row_values().count(handler.email) == 1, \
        "the handler's address stays only on the staff account"

    assert "Mails sent: 0, failed: 0, waiting: 0" in jobs_run(app).output
    assert len(smtp.inbox.messages) == 1


def test_smtp_outage_loses_nothing_and_the_mail_goes_once_when_it_is_back(
        app, submit, make_handler, smtp_down):
    handler = make_handler()
    submit()
    result = jobs_run(app)  # nothing listens: still exit 0, the mail waits
    assert "Mails sent: 0, failed: 1, waiting: 1" in result.output

    [waiting] = outbox()
    assert waiting.sent_at is None and waiting.recipient == handler.email
    assert waiting.attempts == 1
    assert waiting.last_error and "refused" in waiting.last_error.lower()
    assert handler.email not in waiting.last_error
    first_retry = waiting.next_attempt_at

    server = smtp_down.start()
    # Not due yet: a run right away leaves it alone, without counting an attempt.
    assert delivery.deliver_outbox() == delivery.DeliveryReport(sent=0, failed=0, remaining=1)
    assert outbox()[0].attempts == 1

    later = first_retry + timedelta(seconds=1)
    assert delivery.deliver_outbox(now=later) == delivery.DeliveryReport(sent=1, failed=0, remaining=0)
    assert [m.recipients for m in server.inbox.messages] == [[handler.email]]
    [sent] = outbox()
    assert (sent.attempts, sent.recipient, sent.last_error) == (2, "", None)
    assert sent.sent_at == later

    assert delivery.deliver_outbox(now=later + timedelta(days=1)).sent == 0
    assert "Mails sent: 0, failed: 0, waiting: 0" in jobs_run(app).output
    assert len(server.inbox.messages) == 1


def test_reporter_update_reaches_the_reporter_and_says_nothing_else(
        app, submit, make_handler, smtp):
    handler = make_handler()
    marker = "zq" + secrets.token_hex(6)
    reporter_email = f"reporter-{secrets.token_hex(4)}@example.org"
    _, receipt = submit(**marked_report(marker, reporter_email))
    case = db.session.scalar(select(Case))
    assert reporter_email not in stored_row_values(), "the address is stored encrypted"

    case_key = access.open_case_key(case, handler, unlock_private_key(handler, handler.password))
    notify.reporter_update(case, case_key)
    db.session.commit()
    jobs_run(app)

    [mail] = smtp.inbox.to(reporter_email)
    assert mail.recipients == [reporter_email]
    assert "/follow-up" in mail.body
    # Someone else may read the reporter's mailbox: not even the reference is in it.
    for secret in (marker, case.reference, handler.email, receipt,
                   " ".join(receipt[i:i + 4] for i in range(0, 16, 4))):
        assert secret not in mail.text
        assert secret.encode() not in mail.raw
    assert len(smtp.inbox.to(handler.email)) == 1  # the new-report notice, nothing more

    assert all(row.sent_at is not None and row.recipient == "" for row in outbox())
    assert reporter_email not in stored_row_values()


def test_deadline_reminders_go_once_to_each_handler_holding_the_key(
        app, submit, make_handler, smtp):
    ana, ion = make_handler("Ana Popescu"), make_handler("Ion Ionescu")
    gone = make_handler("Dan Plecat")
    now = utcnow()

    def report(days_ago: int, excluded=None, regime=None, closed=False) -> Case:
        fields = {"excluded": str(excluded.id)} if excluded else {}
        submit(what_happened=f"report {secrets.token_hex(3)}", **fields)
        case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
        case.received_at = now - timedelta(days=days_ago)
        case.regime = regime
        if closed:
            case.status, case.closed_at = Status.CLOSED, now
        deadlines.refresh(case)
        db.session.commit()
        return case

    near = report(6, excluded=ion)  # acknowledge due in 1 day (reminder window: 2 days)
    overdue = report(8)  # acknowledge due yesterday
    petition = report(20, regime=Regime.PETITION)  # answer due in 10 days (window: 14)
    report(8, closed=True)  # closed: no deadline
    report(0)  # acknowledge due in 7 days: too early
    gone.active = False  # left the institution after the reports arrived
    db.session.commit()
    assert near.next_deadline_kind == "acknowledge" and petition.next_deadline_kind == "answer"

    assert reminder_jobs.queue_deadline_reminders(now=now) == 5
    assert reminder_jobs.queue_deadline_reminders(now=now) == 0, "a second run queues nothing"
    expected = {("deadline_near", near.reference, ana.email),
                ("deadline_overdue", overdue.reference, ana.email),
                ("deadline_overdue", overdue.reference, ion.email),
                ("deadline_near", petition.reference, ana.email),
                ("deadline_near", petition.reference, ion.email)}
    queued = {(m.kind, reference_in(m.subject), m.recipient) for m in outbox()
              if m.kind.startswith("deadline_")}
    assert queued == expected

    # Two days on, the near deadline has passed: one more notice, the others are not repeated.
    assert reminder_jobs.queue_deadline_reminders(now=now + timedelta(days=2)) == 1
    expected.add(("deadline_overdue", near.reference, ana.email))

    result = jobs_run(app)
    assert "Reminders queued: 0" in result.output
    received = Counter()
    for mail in smtp.inbox.messages:
        reference = reference_in(mail.message["Subject"])
        assert reference in mail.body
        [recipient] = mail.recipients
        received[(reference, recipient)] += 1
    reminders = Counter((reference, recipient) for _, reference, recipient in expected)
    new_reports = Counter()
    for case in db.session.scalars(select(Case)):
        for member in (ana, ion, gone):
            if not (case is near and member is ion):
                new_reports[(case.reference, member.email)] += 1
    assert received == reminders + new_reports
    assert all(near.reference not in m.text for m in smtp.inbox.to(ion.email))
    assert "Mails sent: 0, failed: 0, waiting: 0" in jobs_run(app).output


def test_two_runs_at_once_send_every_mail_exactly_once(app, institution, smtp):
    addresses = [f"handler{n}-{secrets.token_hex(3)}@baltati.example" for n in range(30)]
    for address in addresses:
        notify.enqueue(institution.id, "new_report", address, "Subject", "Body")
    db.session.commit()
    smtp.inbox.delay = 0.01  # a slow server, so that the two runs overlap

    barrier, reports, errors = threading.Barrier(2), [], []

    def run():
        try:
            with app.app_context():
                barrier.wait()
                reports.append(delivery.deliver_outbox())
        except Exception as error:  # reported below, with the thread's traceback lost otherwise
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(report.sent for report in reports) == 30
    assert sum(report.failed for report in reports) == 0
    received = Counter(m.recipients[0] for m in smtp.inbox.messages)
    assert received == Counter(addresses)
    assert all(row.sent_at and row.recipient == "" and row.attempts == 1 for row in outbox())


def test_a_refused_address_waits_without_holding_up_the_others(app, institution, smtp):
    good, bad = "ana@baltati.example", f"typo-{secrets.token_hex(4)}@example.org"
    for address in (good, bad, "ion@baltati.example"):
        notify.enqueue(institution.id, "new_report", address, "Subject", "Body")
    db.session.commit()
    smtp.inbox.refuse.add(bad)
    now = utcnow()

    assert delivery.deliver_outbox(now=now) == delivery.DeliveryReport(sent=2, failed=1, remaining=1)
    refused = next(row for row in outbox() if row.sent_at is None)
    assert refused.recipient == bad and refused.attempts == 1
    assert "550" in refused.last_error
    assert bad not in refused.last_error and "typo-" not in refused.last_error
    assert refused.next_attempt_at == now + timedelta(minutes=1)


def test_retries_back_off_and_a_mail_is_set_aside_only_after_a_month(app, institution,
                                                                       smtp_port):
    notify.enqueue(institution.id, "new_report", "someone@example.org", "Subject", "Body")
    db.session.commit()
    [mail] = outbox()
    moment, delays = utcnow(), []
    for _ in range(delivery.FAST_ATTEMPTS + 2):  # nothing listens on the port
        assert delivery.deliver_outbox(now=moment) == delivery.DeliveryReport(0, 1, 1)
        [mail] = outbox()
        delays.append(mail.next_attempt_at - moment)
        moment = mail.next_attempt_at
    minutes = [int(delay.total_seconds() // 60) for delay in delays]
    assert minutes[:8] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert minutes[delivery.FAST_ATTEMPTS - 1] == 60 and minutes[delivery.FAST_ATTEMPTS] == 6 * 60
    assert mail.recipient == "someone@example.org" and mail.sent_at is None

    give_up = mail.created_at + delivery.GIVE_UP_AFTER
    assert delivery.deliver_outbox(now=give_up) == delivery.DeliveryReport(0, 1, 0)
    [mail] = outbox()
    assert mail.sent_at is None and mail.recipient == ""
    assert mail.last_error.startswith(f"gave up after {delivery.FAST_ATTEMPTS + 3} attempts")
    assert delivery.undeliverable_count() == 1
    result = jobs_run(app)  # still exit 0, but said loudly
    assert "1 mail(s) could not be delivered" in result.output
    assert delivery.deliver_outbox(now=give_up + timedelta(days=365)).failed == 0


def test_a_run_that_dies_mid_send_leaves_the_mail_to_a_later_run(app, institution, smtp):
    notify.enqueue(institution.id, "new_report", "ana@baltati.example", "Subject", "Body")
    db.session.commit()
    now = utcnow()
    claimed = delivery._claim(now)  # this node claims it, then dies before sending
    assert claimed is not None and claimed.recipient == "ana@baltati.example"

    assert delivery.deliver_outbox(now=now + timedelta(minutes=1)).sent == 0  # still claimed
    after_lease = now + delivery.CLAIM_LEASE + timedelta(seconds=1)
    assert delivery.deliver_outbox(now=after_lease).sent == 1
    assert len(smtp.inbox.messages) == 1
    assert outbox()[0].attempts == 2


def test_a_failing_step_does_not_hold_back_the_mail_and_is_not_silent(
        app, submit, make_handler, smtp, monkeypatch):
    handler = make_handler()
    submit()

    def broken(now=None):
        raise RuntimeError("a bug in the reminders")
    monkeypatch.setattr(jobs, "queue_deadline_reminders", broken)

    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 1
    assert "deadline reminders: RuntimeError" in result.output
    assert "Mails sent: 1, failed: 0, waiting: 0" in result.output
    assert [m.recipients for m in smtp.inbox.messages] == [[handler.email]]


def test_a_reporter_address_does_not_wait_in_clear_for_the_mail_server(
        app, submit, make_handler, smtp_down):
    """SMTP down: the reporter's notice waits with its address sealed (under a key from the
    configuration), never in clear; it goes out once the server is back, and the sealed
    address is erased then."""
    handler = make_handler()
    address = f"reporter-{secrets.token_hex(4)}@example.org"
    submit(identity_choice="identified", email=address)
    case = db.session.scalar(select(Case))
    case_key = access.open_case_key(case, handler, unlock_private_key(handler, handler.password))
    notify.reporter_update(case, case_key)
    db.session.commit()
    now = utcnow()
    report = delivery.deliver_outbox(now=now)
    assert report.sent == 0 and report.failed >= 1
    [waiting] = outbox("reporter_update")
    assert waiting.recipient == "" and waiting.sent_at is None and waiting.sealed
    assert address not in stored_row_values()
    assert delivery.undeliverable_count() == 0

    server = smtp_down.start()
    later = now + timedelta(hours=2)
    delivery.deliver_outbox(now=later)
    delivery.deliver_outbox(now=later + timedelta(hours=2))
    assert [m.recipients for m in server.inbox.to(address)] == [[address]]
    [sent] = outbox("reporter_update")
    assert sent.sent_at is not None and sent.recipient == "" and sent.sealed is None
    assert address not in stored_row_values()

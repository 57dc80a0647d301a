"""A reporter's e-mail address is never written in clear to any table (DESIGN.md, Security):
their notices hold it only sealed under a key from the configuration, it is erased once sent,
one failing mail does not hold back the others, and one case's notices are not repeated.
Delivered to a real SMTP server (aiosmtpd)."""
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, OutboxMail
from app.models.types import utcnow
from app.services.access import keys as access
from app.services.operations import notify, outbox
from app.services.staff.members import unlock_private_key
from tests.support import mail as mail_fixtures
from tests.support.database import stored_row_values
from tests.support.mail import Inbox, SmtpServer

# The app mails through a real SMTP server on a free port.
smtp_port, app_config = mail_fixtures.smtp_port, mail_fixtures.app_config


class DroppingInbox(Inbox):
    """Refuses some recipients (550) and hangs up in the middle of others' messages."""

    def __init__(self):
        super().__init__()
        self.drop: set[str] = set()

    async def handle_DATA(self, server, session, envelope):
        if self.drop & set(envelope.rcpt_tos):
            server.transport.close()
            return "421 closing"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp(smtp_port):
    server = SmtpServer(smtp_port)
    server.inbox = DroppingInbox()
    server.start()
    yield server
    server.stop()


def reporter_notices() -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).where(
        OutboxMail.kind == notify.REPORTER_UPDATE).order_by(OutboxMail.id)))


@pytest.fixture
def cases_with_addresses(submit, make_handler):
    """Four identified reports with an address each; returns [(case, case key, address)]."""
    handler = make_handler()
    private_key = unlock_private_key(handler, handler.password)
    made = []
    for number in range(4):
        address = f"reporter{number}-{secrets.token_hex(4)}@example.org"
        submit(identity_choice="identified", email=address)
        case = db.session.scalar(select(Case).order_by(Case.id.desc()))
        made.append((case, access.open_case_key(case, handler, private_key), address))
    return made


def test_reporter_addresses_never_in_clear_and_one_failure_stops_no_one(
        app, smtp, cases_with_addresses):
    addresses = [address for *_, address in cases_with_addresses]
    refused, dropped = addresses[1], addresses[2]
    smtp.inbox.refuse.add(refused)
    smtp.inbox.drop.add(dropped)
    for case, case_key, _ in cases_with_addresses:
        notify.reporter_update(case, case_key)
    db.session.commit()
    dump = stored_row_values()
    assert not [address for address in addresses if address in dump], \
        "a pending notice holds the reporter's address in clear"
    assert all(row.recipient == "" and row.sealed for row in reporter_notices())

    now = utcnow()
    report = outbox.deliver_outbox(now=now)
    # The refused one and the hung-up one fail alone; the two others (and the handler's
    # "new report" mails) go out in the same run.
    assert report.failed == 2
    delivered = {address for message in smtp.inbox.messages for address in message.recipients}
    assert {addresses[0], addresses[3]} <= delivered
    assert refused not in delivered and dropped not in delivered
    waiting = [row for row in reporter_notices() if row.sent_at is None]
    assert len(waiting) == 2 and all(row.sealed and row.recipient == "" for row in waiting)
    errors = sorted(row.last_error.split(":")[0] for row in waiting)
    assert errors == ["SMTPRecipientsRefused", "SMTPServerDisconnected"], errors
    assert all(address not in (row.last_error or "") for row in waiting
               for address in addresses)
    dump = stored_row_values()
    assert not [address for address in addresses if address in dump]

    # The server is fixed: the waiting ones go at their retry; everything sealed is erased.
    smtp.inbox.refuse.clear()
    smtp.inbox.drop.clear()
    outbox.deliver_outbox(now=now + timedelta(minutes=5))
    delivered = {address for message in smtp.inbox.messages for address in message.recipients}
    assert set(addresses) <= delivered
    assert all(row.sent_at and row.sealed is None and row.recipient == ""
               for row in reporter_notices())
    dump = stored_row_values()
    assert not [address for address in addresses if address in dump]


def test_one_case_gets_one_pending_notice_however_many_updates(
        app, smtp, cases_with_addresses):
    case, case_key, address = cases_with_addresses[0]
    for _ in range(12):
        notify.reporter_update(case, case_key)
    db.session.commit()
    assert len(reporter_notices()) == 1
    outbox.deliver_outbox()
    assert len(smtp.inbox.to(address)) == 1
    # A later update, after the first notice went, is news again.
    notify.reporter_update(case, case_key)
    db.session.commit()
    outbox.deliver_outbox()
    assert len(smtp.inbox.to(address)) == 2

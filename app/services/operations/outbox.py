"""Mail delivery from the outbox table: SMTP (or .eml files in development), one mail at a time.

Safe on several nodes at once: delivery claims one mail at a time in a short transaction:
PostgreSQL picks the row with `FOR UPDATE SKIP LOCKED` (nodes never wait for, nor take, each
other's row), and the claim itself is a conditional UPDATE that moves `next_attempt_at` a lease
into the future, so it also holds on SQLite (which ignores FOR UPDATE but serialises writers).
The mail is sent with no transaction open, then the result is committed at once: a crash after
that commit never sends it again; a node that dies mid-send leaves a claim that expires after
`CLAIM_LEASE`, when another run retries it.

Failures are never silent and never lose a mail: the row stays pending with its attempt count
and a short error (no address in it), retried with exponential backoff; only after
`GIVE_UP_AFTER` of failures is it set aside, its recipient erased, and counted as undeliverable
by every later run.

What must not be readable from the database (an activation link, a reporter's address) is in
the row only sealed under a key from the configuration (see app.services.operations.notify); it
is opened in memory just before sending and erased, with the recipient, once the mail has gone.
One failing mail never holds back the others: a refused recipient or a dropped connection fails
that mail only; the run stops only when the server cannot be reached twice in a row.

In development (MAIL_TRANSPORT = "files") mail is written to instance/mail/ as .eml files
instead of SMTP, right after the request that queued it (see `init_app`).
"""
import os
import re
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from logging import INFO
from pathlib import Path

from flask import current_app
from flask_mail import BadHeaderError, Connection, Message
from sqlalchemy import and_, func, select, update

from ...crypto import DecryptionError
from ...extensions import db
from ...models import Institution, OutboxMail
from ...models.types import utcnow
from . import notify

# A claimed mail is retried by another run if its sender has not recorded a result by then.
# Far longer than one send may take (see MAIL_TIMEOUT), so a live sender never loses its claim.
CLAIM_LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(minutes=1)  # then 2, 4, 8 … minutes
MAX_RETRY_DELAY = timedelta(hours=1)
FAST_ATTEMPTS = 20  # after these (about 15 hours of tries), retry every SLOW_RETRY_DELAY
SLOW_RETRY_DELAY = timedelta(hours=6)
GIVE_UP_AFTER = timedelta(days=30)  # since the mail was queued, and FAST_ATTEMPTS failed
# `next_attempt_at` of a mail set aside: never due again, still in the table and counted.
NEVER = datetime(9999, 1, 1, tzinfo=UTC)
ERASED = ""  # the recipient, once the mail has gone (or been given up)
DEFAULT_MAIL_TIMEOUT = 30  # seconds per SMTP socket operation; config MAIL_TIMEOUT

ADDRESS_RE = re.compile(r"[^\s<>\"'(),;:\[\]]+@[^\s<>\"'(),;:\[\]]+")
# Errors of one message; the connection stays usable (smtplib resets it). Anything else that
# is an OSError (refused, timed out, disconnected, authentication…) ends the run's delivery.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                  smtplib.SMTPDataError, smtplib.SMTPNotSupportedError)


@dataclass
class DeliveryReport:
    sent: int
    failed: int
    remaining: int  # mails still waiting (due now, claimed, or in backoff), not given up


@dataclass
class _Claimed:
    id: int
    institution_id: int
    recipient: str
    subject: str
    body: str
    attempts: int
    created_at: datetime
    kind: str
    sealed: bytes | None = None


def _clock(now: datetime | None) -> Callable[[], datetime]:
    return (lambda: now) if now is not None else utcnow


# --- outbox delivery -----------------------------------------------------------------------------

class _TimedConnection(Connection):
    """Flask-Mail's connection, with a socket timeout: a hung SMTP server must not hold a run,
    and its claimed mail, longer than CLAIM_LEASE."""

    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        timeout = current_app.config.get("MAIL_TIMEOUT", DEFAULT_MAIL_TIMEOUT)
        smtp_class = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp_class(state.server, state.port, timeout=timeout)
        host.set_debuglevel(int(state.debug))
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


class _Smtp:
    """One SMTP connection for a run, opened at the first mail and closed quietly."""

    def __init__(self) -> None:
        self.connection: _TimedConnection | None = None

    def send(self, message: Message) -> None:
        if self.connection is not None and getattr(self.connection.host, "sock", True) is None:
            self.close()  # the server hung up after the last mail (a 421, say): reconnect
        if self.connection is None:
            connection = _TimedConnection(current_app.extensions["mail"])
            connection.__enter__()  # connects (or stays offline when MAIL_SUPPRESS_SEND)
            self.connection = connection
        self.connection.send(message)

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and connection.host is not None:
            try:
                connection.host.quit()
            except OSError:  # smtplib's errors are OSErrors too
                connection.host.close()


def _pending():
    return and_(OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at < NEVER)


def _claim(now: datetime) -> _Claimed | None:
    """Take the oldest due mail for this run, in one short transaction."""
    try:
        claimed = _try_claim(now)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return claimed


def _try_claim(now: datetime) -> _Claimed | None:
    columns = (OutboxMail.id, OutboxMail.institution_id, OutboxMail.recipient,
               OutboxMail.subject, OutboxMail.body, OutboxMail.attempts, OutboxMail.created_at,
               OutboxMail.kind, OutboxMail.sealed)
    for _ in range(10):  # a lost race (SQLite, or PostgreSQL without the lock) tries again
        row = db.session.execute(
            select(*columns)
            .where(OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.id).limit(1)
            .with_for_update(skip_locked=True)).one_or_none()
        if row is None:
            return None
        # Compare-and-set: of several runs that saw the row due, only one moves it forward.
        claim = db.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == row.id, OutboxMail.sent_at.is_(None),
                   OutboxMail.next_attempt_at <= now)
            .values(next_attempt_at=now + CLAIM_LEASE, attempts=OutboxMail.attempts + 1)
            .execution_options(synchronize_session=False))
        if claim.rowcount == 1:  # type: ignore[attr-defined]  # a CursorResult, typed as Result
            return _Claimed(row.id, row.institution_id, row.recipient, row.subject, row.body,
                            row.attempts + 1, row.created_at, row.kind, row.sealed)
    return None


def _short_error(error: BaseException, recipient: str) -> str:
    """What went wrong, in a few words, without the address (servers like to echo it)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        text = f"recipient refused ({', '.join(map(str, codes))})"
    elif isinstance(error, smtplib.SMTPResponseException):
        message = error.smtp_error
        if isinstance(message, bytes):
            message = message.decode(errors="replace")
        text = f"{error.smtp_code} {message}"
    else:
        text = str(error) or "no detail"
    if recipient:
        text = text.replace(recipient, "<recipient>")
    text = ADDRESS_RE.sub("<address>", " ".join(text.split()))
    return f"{type(error).__name__}: {text}"[:300]


def _retry_delay(attempts: int) -> timedelta:
    if attempts > FAST_ATTEMPTS:
        return SLOW_RETRY_DELAY
    return min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY_DELAY)


def _record_sent(mail: _Claimed, at: datetime) -> None:
    db.session.execute(
        update(OutboxMail).where(OutboxMail.id == mail.id)
        .values(sent_at=at, recipient=ERASED, sealed=None, last_error=None)
        .execution_options(synchronize_session=False))
    db.session.commit()


def _record_failure(mail: _Claimed, error: BaseException, at: datetime) -> None:
    reason = _short_error(error, mail.recipient)
    values = {"last_error": reason, "next_attempt_at": at + _retry_delay(mail.attempts)}
    if isinstance(error, DecryptionError) or (
            mail.attempts >= FAST_ATTEMPTS and at - mail.created_at >= GIVE_UP_AFTER):
        # Set aside, not deleted: the row, its kind, subject and error stay for the operator;
        # the address and the sealed part do not stay for ever.
        values.update(next_attempt_at=NEVER, recipient=ERASED, sealed=None,
                      last_error=f"gave up after {mail.attempts} attempts; {reason}"[:300])
        current_app.logger.error("outbox mail %s: gave up after %s attempts (%s)",
                                 mail.id, mail.attempts, reason)
    else:
        current_app.logger.warning("outbox mail %s: attempt %s failed (%s)",
                                   mail.id, mail.attempts, reason)
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail.id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _sender(institution_id: int, cache: dict[int, str]) -> str:
    if institution_id not in cache:
        institution = db.session.get(Institution, institution_id)
        cache[institution_id] = ((institution.mail_sender if institution else None)
                                 or current_app.config["MAIL_DEFAULT_SENDER"])
    return cache[institution_id]


def pending_count() -> int:
    return db.session.execute(
        select(func.count()).select_from(OutboxMail).where(_pending())).scalar_one()


def undeliverable_count() -> int:
    return db.session.execute(select(func.count()).select_from(OutboxMail).where(
        OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at >= NEVER,
        OutboxMail.kind != notify.REPORTER_UPDATE)).scalar_one()


def parked_reporter_updates() -> int:
    """Reporter notices left without an address by earlier versions (which erased it after a
    failed attempt), waiting for a handler to open their case."""
    return db.session.execute(select(func.count()).select_from(OutboxMail).where(
        OutboxMail.sent_at.is_(None), OutboxMail.kind == notify.REPORTER_UPDATE,
        OutboxMail.recipient == ERASED, OutboxMail.sealed.is_(None))).scalar_one()


class _FileMailbox:
    """Development's mail server: one .eml file per message under instance/mail/ (0600, in a
    0700 folder), its path in the log. The file is the mailbox: the activation link in it is
    meant to be read; nothing secret stays in the database."""

    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, message: Message) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%d-%H%M%S-%f}-{os.getpid()}-{threading.get_ident()}.eml"
        path = self.folder / name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(message.as_bytes())
        current_app.logger.info("mail written to %s", path)

    def close(self) -> None:
        pass


def mail_folder() -> Path:
    return Path(current_app.config.get("MAIL_FOLDER")
                or Path(current_app.config["INSTANCE_DIR"]) / "mail")


def _transport():
    if current_app.config.get("MAIL_TRANSPORT") == "files":
        return _FileMailbox(mail_folder())
    return _Smtp()


def _open_sealed(mail: _Claimed) -> tuple[str, str]:
    parts = notify.open_parts(mail.id, mail.kind, mail.sealed)
    return parts.get("recipient", mail.recipient), parts.get("body", mail.body)


def deliver_outbox(limit: int = 100, now: datetime | None = None) -> DeliveryReport:
    """Send up to `limit` due mails. `now` fixes the clock (tests); by default the real time.
    A failing mail fails alone; the run ends early only when the server could not be reached
    for two mails in a row (the rest wait for the next run untouched)."""
    clock = _clock(now)
    sent = failed = unreachable = 0
    senders: dict[int, str] = {}
    smtp = _transport()
    try:
        while sent + failed < limit:
            mail = _claim(clock())
            if mail is None:
                break
            try:
                recipient, body = _open_sealed(mail)
            except DecryptionError as error:
                failed += 1
                _record_failure(mail, error, clock())
                continue
            message = Message(subject=mail.subject, recipients=[recipient], body=body,
                              sender=_sender(mail.institution_id, senders))
            mail.recipient = recipient  # in memory only: to keep it out of error texts
            db.session.commit()  # no transaction stays open while the SMTP server answers
            try:
                smtp.send(message)
            except (*MESSAGE_ERRORS, BadHeaderError) as error:
                failed, unreachable = failed + 1, 0
                _record_failure(mail, error, clock())
                continue
            except OSError as error:  # the server is down, refuses us or went away
                failed, unreachable = failed + 1, unreachable + 1
                smtp.close()  # the next mail gets a fresh connection
                _record_failure(mail, error, clock())
                if unreachable >= 2:
                    break
                continue
            except Exception as error:  # one malformed mail must not block the queue
                failed += 1
                _record_failure(mail, error, clock())
                continue
            sent, unreachable = sent + 1, 0
            _record_sent(mail, clock())
    finally:
        smtp.close()
        db.session.rollback()
    return DeliveryReport(sent=sent, failed=failed, remaining=pending_count())


# --- development: deliver right after the request ------------------------------------------------

def deliver_after_request(app) -> None:
    """Run delivery in a short background thread of this worker, after the response: the
    request's transaction has committed by then, and the claims make several workers (and a
    `jobs run` alongside) send each mail once."""
    def work():
        with app.app_context():
            try:
                deliver_outbox()
            except Exception:
                app.logger.exception("development mail delivery failed")
            finally:
                db.session.remove()

    threading.Thread(target=work, name="avertizor-dev-mail", daemon=True).start()


def init_app(app) -> None:
    """In development, mail goes to instance/mail/ after every request that queued some."""
    if app.config.get("MAIL_TRANSPORT") == "files" and app.logger.getEffectiveLevel() > INFO:
        app.logger.setLevel(INFO)  # the path of each mail written is told in the log
    if not app.config.get("MAIL_DELIVER_AFTER_REQUEST"):
        return

    from flask import g
    from sqlalchemy import event

    @event.listens_for(OutboxMail, "after_insert")
    def _queued(mapper, connection, target):  # noqa: ARG001 (SQLAlchemy's signature)
        from flask import has_request_context

        if has_request_context():
            g.avertizor_mail_queued = True

    @app.teardown_request
    def _deliver(_error=None):
        if g.pop("avertizor_mail_queued", False):
            deliver_after_request(app)

"""Background work, run by cron or a systemd timer: `flask --app wsgi jobs run`.

Safe on several nodes at once:

- Outbox delivery claims one mail at a time in a short transaction: PostgreSQL picks the row
  with `FOR UPDATE SKIP LOCKED` (nodes never wait for, nor take, each other's row), and the
  claim itself is a conditional UPDATE that moves `next_attempt_at` a lease into the future,
  so it also holds on SQLite (which ignores FOR UPDATE but serialises writers). The mail is
  sent with no transaction open, then the result is committed at once: a crash after that
  commit never sends it again; a node that dies mid-send leaves a claim that expires after
  `CLAIM_LEASE`, when another run retries it.
- Deadline reminders are enqueued with a dedupe key (unique in the table): each notice is
  queued once however many runs, on however many nodes, see it.

Failures are never silent and never lose a mail: the row stays pending with its attempt count
and a short error (no address in it), retried with exponential backoff; only after
`GIVE_UP_AFTER` of failures is it set aside, its recipient erased, and counted as undeliverable
by every later run.

What must not be readable from the database (an activation link, a reporter's address) is in
the row only sealed under a key from the configuration (see app.services.operations.notify); it is opened
in memory just before sending and erased, with the recipient, once the mail has gone. One
failing mail never holds back the others: a refused recipient or a dropped connection fails
that mail only; the run stops only when the server cannot be reached twice in a row.

In development (MAIL_TRANSPORT = "files") mail is written to instance/mail/ as .eml files
instead of SMTP, right after the request that queued it (see `init_app`).
"""
import os
import re
import smtplib
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from logging import INFO
from pathlib import Path

from flask import current_app
from flask_mail import BadHeaderError, Connection, Message
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import load_only

from ...crypto import DecryptionError
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
from ...models.types import utcnow
from ..casework import deadlines
from ..intake import followup
from ..staff import sign_in as staff_auth
from . import notify, orphans, retention

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
REMINDER_BATCH = 500  # cases per query when looking up their handlers

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
class RunReport:
    reminders_queued: int
    delivery: DeliveryReport
    undeliverable: int  # mails set aside after GIVE_UP_AFTER; need an operator's attention
    errors: list[str]  # steps that failed with an exception (logged with their traceback)
    cases_purged: int = 0  # retention period over (see app.services.operations.retention)
    purge_notices_queued: int = 0
    orphan_files_removed: int = 0  # left by a process killed mid-upload


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

    def __init__(self):
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
        won = db.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == row.id, OutboxMail.sent_at.is_(None),
                   OutboxMail.next_attempt_at <= now)
            .values(next_attempt_at=now + CLAIM_LEASE, attempts=OutboxMail.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        if won == 1:
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
    return db.session.scalar(select(func.count()).select_from(OutboxMail).where(_pending()))


def undeliverable_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMail).where(
        OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at >= NEVER,
        OutboxMail.kind != notify.REPORTER_UPDATE))


def parked_reporter_updates() -> int:
    """Reporter notices left without an address by earlier versions (which erased it after a
    failed attempt), waiting for a handler to open their case."""
    return db.session.scalar(select(func.count()).select_from(OutboxMail).where(
        OutboxMail.sent_at.is_(None), OutboxMail.kind == notify.REPORTER_UPDATE,
        OutboxMail.recipient == ERASED, OutboxMail.sealed.is_(None)))


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
            or_(and_(Case.next_deadline_kind == deadlines.ACKNOWLEDGE,
                     Case.next_deadline_at <= acknowledge_until),
                and_(Case.next_deadline_kind != deadlines.ACKNOWLEDGE,
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
        institution = db.session.get(Institution, institution_id)
        cases = _due_cases(institution, now)
        holders = _handlers_by_case([case.id for case in cases])
        notices = []
        for case in cases:
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


# --- sessions ------------------------------------------------------------------------------------

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
    delivery = step("outbox delivery", lambda: deliver_outbox(limit=limit, now=now), None)
    if delivery is None:
        delivery = DeliveryReport(sent=0, failed=0, remaining=pending_count())
    return RunReport(reminders_queued=queued, delivery=delivery,
                     undeliverable=undeliverable_count(), errors=errors,
                     cases_purged=purging.purged if purging else 0,
                     purge_notices_queued=purging.notices_queued if purging else 0,
                     orphan_files_removed=orphans_removed)

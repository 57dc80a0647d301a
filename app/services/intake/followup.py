"""The reporter's way back: receipt login, a short split session, reading and answering.

The session's secret is split: the database row holds the case key encrypted under a random
key that exists only in the reporter's cookie. Neither half alone opens the case.
"""
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...crypto import DecryptionError, envelope
from ...crypto.kdf import KdfParams
from ...extensions import db
from ...models import (
    FROM_REPORTER,
    Attachment,
    Case,
    EventKind,
    Institution,
    Message,
    ReporterSession,
)
from ...models.types import utcnow
from .. import split_session
from ..casework import inbox
from ..casework.events import record_event
from ..errors import InvalidReceipt, NotAuthorised, SessionExpired
from ..indicators import usage
from . import receipts
from .evidence import DecryptedFile, Evidence, attachment_meta, open_attachment, store_evidence

MAX_MESSAGE = 10000
PURPOSE = "reporter"
WRONG_RECEIPT = _l("This receipt does not open any report. Check the 16 digits and try again.")


@dataclass
class ReporterAccess:
    """An open follow-up session: the case and its key, for this request only."""

    session: ReporterSession
    case: Case
    case_key: bytes


def purge_expired_sessions(idle: timedelta) -> None:
    split_session.purge_expired(ReporterSession, idle=idle, now=utcnow())


def log_in(institution: Institution, typed_receipt: str, *, kdf_params: KdfParams,
           idle: timedelta, lifetime: timedelta) -> str:
    """Open a session for the receipt's case; returns the cookie value. One generic error."""
    purge_expired_sessions(idle)
    receipt = receipts.normalise(typed_receipt)
    if receipt is None:
        raise InvalidReceipt(WRONG_RECEIPT)
    found = receipts.find(institution, receipt, kdf_params)
    if found is None:
        raise InvalidReceipt(WRONG_RECEIPT)
    row, derived = found
    case_key = envelope.unwrap_with_receipt(row.wrapped_case_key, row.case.uuid, derived.key)
    cookie, secret = split_session.new_cookie()
    now = utcnow()
    db.session.add(ReporterSession(
        token_hash=secret.token_hash, case_id=row.case_id, created_at=now, last_seen_at=now,
        expires_at=now + lifetime, sealed_case_key=secret.seal(case_key, PURPOSE)))
    usage.count(row.institution_id, usage.FOLLOW_UP_LOGIN)
    db.session.flush()
    return cookie


def resume(cookie_value: str | None, *, idle: timedelta,
           institution: Institution) -> ReporterAccess:
    """The open session behind a cookie, or SessionExpired; a session opened at another
    institution's pages is no session here."""
    secret = split_session.parse_cookie(cookie_value)
    if secret is None:
        raise SessionExpired(_l("Please enter your receipt to continue."))
    now = utcnow()
    session = split_session.live_row(ReporterSession, secret, idle=idle, now=now)
    if session is None:
        raise SessionExpired(_l("Your session has ended. Please enter your receipt again."))
    try:
        case_key = secret.open(session.sealed_case_key, PURPOSE)
    except DecryptionError as exc:
        raise SessionExpired(_l("Please enter your receipt to continue.")) from exc
    case = db.session.get_one(Case, session.case_id)
    if case.institution_id != institution.id:
        raise SessionExpired(_l("Please enter your receipt to continue."))
    session.last_seen_at = now
    return ReporterAccess(session=session, case=case, case_key=case_key)


def log_out(cookie_value: str | None) -> None:
    split_session.end(ReporterSession, cookie_value)


@dataclass
class ThreadEntry:
    author: str
    body: str
    created_at: datetime
    files: list[dict]


@dataclass
class CaseForReporter:
    case: Case
    content: dict
    files: list[dict]  # the files sent with the report
    thread: list[ThreadEntry]


def read_case(access: ReporterAccess) -> CaseForReporter:
    """What the reporter may see of their case: what they sent and the message thread."""
    case, key = access.case, access.case_key
    content = envelope.open_report(key, case.uuid, case.content)
    attachments = db.session.scalars(
        select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)).all()
    files_by_message: dict[int | None, list[dict]] = {}
    for attachment in attachments:
        files_by_message.setdefault(attachment.message_id, []).append(
            {**attachment_meta(attachment, key), "id": attachment.id})
    messages = db.session.scalars(
        select(Message).where(Message.case_id == case.id).order_by(Message.id)).all()
    thread = [
        ThreadEntry(author=m.author, created_at=m.created_at,
                    body=envelope.open_message(key, m.uuid, m.body),
                    files=files_by_message.get(m.id, []))
        for m in messages
    ]
    return CaseForReporter(case=case, content=content, files=files_by_message.get(None, []),
                           thread=thread)


def send_message(access: ReporterAccess, body: str, evidence: list[Evidence]) -> Message:
    """A message (and files) from the reporter to the handlers of their case."""
    case = access.case
    message = Message(institution_id=case.institution_id, case_id=case.id,
                      author=FROM_REPORTER)
    message.uuid = str(uuid.uuid4())
    message.body = envelope.seal_message(access.case_key, message.uuid, body)
    db.session.add(message)
    db.session.add_all([
        store_evidence(item, case=case, case_key=access.case_key, author=FROM_REPORTER,
                       message=message)
        for item in evidence])
    record_event(case, EventKind.REPORTER_MESSAGE)
    inbox.reporter_wrote(case)  # unread for its handlers, who get a content-free mail
    case.updated_at = utcnow()
    db.session.flush()
    return message


@dataclass
class FileForReporter:
    name: str
    size: int
    chunks: DecryptedFile  # plain values only: streams after the request's commit


def download(access: ReporterAccess, attachment_id: int) -> FileForReporter:
    """A file of the reporter's own case (sent with the report, by them or by the staff),
    decrypted with the case key of the reporter's session. EvidenceUnavailable when the
    stored file cannot be read."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != access.case.id:
        raise NotAuthorised(_l("This file does not belong to your report."))
    meta = attachment_meta(attachment, access.case_key)
    chunks = open_attachment(attachment, access.case_key, meta["size"])
    return FileForReporter(name=meta["name"], size=meta["size"], chunks=chunks)

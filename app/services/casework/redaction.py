"""Deleting personal data that is manifestly irrelevant to a case (GDPR art. 17, Directive (EU)
2019/1937 art. 17, Law 361/2022): a passage of the report or of a message replaced by
"[redacted]", or an evidence file deleted.

Only a handler holding the case key can do it, with a written reason. The audit entry and the
case event name the place (field, message or file id) and the reason, never the removed text.
The new ciphertext replaces the old one under the same key and associated data; SQLite is told
to zero the freed pages, and a deleted file is overwritten before it is removed.
"""

from flask_babel import lazy_gettext as _l

from ...crypto import envelope
from ...extensions import db
from ...models import Attachment, EventKind, Message
from ...models.types import utcnow
from ..access.opened import OpenCase
from ..audit import chain as audit
from ..errors import DomainError
from ..intake.evidence import upload_path
from ..operations.shredding import shred_after_commit, zero_freed_pages
from .events import record_event

REDACTED = "[redacted]"
REPORT_FIELDS = ("what_happened", "when_where", "persons_involved", "how_known", "transcript")
MIN_REASON = 10
MAX_REASON = 1000


class RedactionRefused(DomainError):
    pass


def _reason(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) < MIN_REASON:
        raise RedactionRefused(_l("Write why this is manifestly irrelevant personal data (at "
                                  "least %(count)d characters).", count=MIN_REASON),
                               field="reason")
    return text[:MAX_REASON]


def _redact(text: str, passage: str | None) -> tuple[str, int]:
    """The text with every occurrence of the passage replaced, and how many there were.
    Browsers send line breaks as CRLF; the stored text may have either."""
    passage = (passage or "").strip()
    if not passage:
        raise RedactionRefused(_l("Copy the exact passage to remove."), field="passage")
    unix = passage.replace("\r\n", "\n")
    for candidate in dict.fromkeys((passage, unix, unix.replace("\n", "\r\n"))):
        count = text.count(candidate)
        if count:
            return text.replace(candidate, REDACTED), count
    raise RedactionRefused(_l("This passage is not in the chosen text. Copy it exactly as it "
                              "appears, or choose another part of the case."), field="passage")


def _record(opened: OpenCase, kind: EventKind, detail: dict) -> None:
    """A case event and an audit entry with the place and the reason: never the text."""
    case = opened.case
    record_event(case, kind, by=opened.member,
                 **{key: value for key, value in detail.items() if key != "reason"})
    audit.record(kind, institution_id=case.institution_id, actor=opened.member, case=case,
                 detail=detail)
    case.updated_at = utcnow()


def redact_report(opened: OpenCase, field: str, passage: str, reason: str) -> int:
    """Replace a passage of one field of the report; returns how many occurrences went."""
    case, case_key = opened.case, opened.key
    if field not in REPORT_FIELDS:
        raise RedactionRefused(_l("Choose the part of the case to redact."), field="target")
    reason = _reason(reason)
    content = envelope.open_report(case_key, case.uuid, case.content)
    content[field], count = _redact(content.get(field) or "", passage)
    zero_freed_pages()
    case.content = envelope.seal_report(case_key, case.uuid, content)
    _record(opened, EventKind.REPORT_REDACTED,
            {"field": field, "occurrences": count, "reason": reason})
    db.session.flush()
    return count


def redact_message(opened: OpenCase, message_id: int, passage: str, reason: str) -> int:
    """Replace a passage of one message (the reporter's or the staff's) of the case."""
    case, case_key = opened.case, opened.key
    message = db.session.get(Message, message_id)
    if message is None or message.case_id != case.id:
        raise RedactionRefused(_l("Choose the part of the case to redact."), field="target")
    reason = _reason(reason)
    body = envelope.open_message(case_key, message.uuid, message.body)
    body, count = _redact(body, passage)
    zero_freed_pages()
    message.body = envelope.seal_message(case_key, message.uuid, body)
    _record(opened, EventKind.MESSAGE_REDACTED,
            {"message": message.id, "occurrences": count, "reason": reason})
    db.session.flush()
    return count


def delete_file(opened: OpenCase, attachment_id: int, reason: str) -> None:
    """Delete an evidence file: its row now, its bytes (overwritten) once this commits."""
    case = opened.case
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        raise RedactionRefused(_l("Choose the file to delete."), field="file")
    reason = _reason(reason)
    zero_freed_pages()
    shred_after_commit(upload_path(attachment.storage_name))
    db.session.delete(attachment)
    _record(opened, EventKind.FILE_DELETED, {"file": attachment.id, "reason": reason})
    db.session.flush()


"""Deleting personal data that is manifestly irrelevant to a case (GDPR art. 17, Directive (EU)
2019/1937 art. 17, Law 361/2022): a passage of the report or of a message replaced by
"[redacted]", or an evidence file deleted.

Only a handler holding the case key can do it, with a written reason. The audit entry and the
case event name the place (field, message or file id) and the reason, never the removed text.
The new ciphertext replaces the old one under the same key and associated data; SQLite is told
to zero the freed pages, and a deleted file is overwritten before it is removed.
"""
import json

from flask_babel import lazy_gettext as _l

from ...crypto import envelope
from ...extensions import db
from ...models import Attachment, Case, CaseEvent, Message
from ...models.types import utcnow
from ..audit import chain as audit
from ..errors import DomainError
from ..intake.evidence import upload_path
from ..operations.shredding import shred_after_commit, zero_freed_pages
from ..staff.sign_in import StaffAccess
from .case_view import open_case_key

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


def _record(access: StaffAccess, case: Case, kind: str, detail: dict) -> None:
    """A case event and an audit entry with the place and the reason: never the text."""
    db.session.add(CaseEvent(case_id=case.id, institution_id=case.institution_id, kind=kind,
                             actor_staff_id=access.member.id,
                             detail=json.dumps({k: v for k, v in detail.items()
                                                if k != "reason"}, sort_keys=True)))
    audit.record(kind, institution_id=case.institution_id, actor=access.member, case=case,
                 detail=detail)
    case.updated_at = utcnow()


def redact_report(access: StaffAccess, case_id: int, field: str, passage: str,
                  reason: str) -> int:
    """Replace a passage of one field of the report; returns how many occurrences went."""
    case, case_key = open_case_key(access, case_id)
    if field not in REPORT_FIELDS:
        raise RedactionRefused(_l("Choose the part of the case to redact."), field="target")
    reason = _reason(reason)
    content = envelope.open_report(case_key, case.uuid, case.content)
    content[field], count = _redact(content.get(field) or "", passage)
    zero_freed_pages()
    case.content = envelope.seal_report(case_key, case.uuid, content)
    _record(access, case, "report_redacted",
            {"field": field, "occurrences": count, "reason": reason})
    db.session.flush()
    return count


def redact_message(access: StaffAccess, case_id: int, message_id: int, passage: str,
                   reason: str) -> int:
    """Replace a passage of one message (the reporter's or the staff's) of the case."""
    case, case_key = open_case_key(access, case_id)
    message = db.session.get(Message, message_id)
    if message is None or message.case_id != case.id:
        raise RedactionRefused(_l("Choose the part of the case to redact."), field="target")
    reason = _reason(reason)
    body = envelope.open_message(case_key, message.uuid, message.body)
    body, count = _redact(body, passage)
    zero_freed_pages()
    message.body = envelope.seal_message(case_key, message.uuid, body)
    _record(access, case, "message_redacted",
            {"message": message.id, "occurrences": count, "reason": reason})
    db.session.flush()
    return count


def delete_file(access: StaffAccess, case_id: int, attachment_id: int, reason: str) -> None:
    """Delete an evidence file: its row now, its bytes (overwritten) once this commits."""
    case, _ = open_case_key(access, case_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        raise RedactionRefused(_l("Choose the file to delete."), field="file")
    reason = _reason(reason)
    zero_freed_pages()
    shred_after_commit(upload_path(attachment.storage_name))
    db.session.delete(attachment)
    _record(access, case, "file_deleted", {"file": attachment.id, "reason": reason})
    db.session.flush()


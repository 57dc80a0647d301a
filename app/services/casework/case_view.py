"""A handler reading one case: the case page (report, thread, files, events, audit entries,
who holds the key) and downloading its files. Every read of content is written to the audit log.
The page opens the case itself (access/opened.py), after looking for a purged case first."""
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...crypto import envelope
from ...extensions import db
from ...models import Attachment, AuditEntry, Case, CaseEvent, Message, Note, StaffMember
from ..access import keys as key_access
from ..access.opened import OpenCase, open_case
from ..audit import chain as audit
from ..errors import NotAuthorised
from ..intake.evidence import attachment_meta, open_attachment
from ..operations import notify, retention
from ..staff.directory import names as staff_names
from ..staff.sign_in import StaffAccess
from . import inbox


@dataclass
class FileView:
    id: int
    name: str
    type: str
    size: int
    author: str
    created_at: datetime


@dataclass
class ThreadItem:
    kind: str  # "reporter", "staff" or "note"
    body: str
    created_at: datetime
    staff_name: str | None = None
    files: list[FileView] = field(default_factory=list)
    message_id: int | None = None  # None for notes


@dataclass
class StaffCaseView:
    case: Case
    content: dict | None  # None once the case was purged (retention)
    files: list[FileView]
    thread: list[ThreadItem]
    events: list[CaseEvent]
    audit_entries: list[AuditEntry]
    holders: list[StaffMember]
    grantable: list[StaffMember]
    staff_names: dict[int, str]
    # The reader's previous visit, and whether the reporter wrote since.
    seen_before: datetime | None = None
    unread_from_reporter: bool = False


def _content(case: Case, case_key: bytes) -> dict:
    return envelope.open_report(case_key, case.uuid, case.content)


def _file_view(attachment: Attachment, case_key: bytes) -> FileView:
    meta = attachment_meta(attachment, case_key)
    return FileView(id=attachment.id, name=meta["name"], type=meta["type"], size=meta["size"],
                    author=attachment.author, created_at=attachment.created_at)


def read_case(access: StaffAccess, case_id: int) -> StaffCaseView:
    """Everything a handler sees on the case page, decrypted for this request; audited.
    A purged case shows its metadata only: no key opens it any more."""
    purged = retention.purged_case_for_handler(access.member, case_id)
    if purged is not None:
        audit.record("case_opened", institution_id=purged.institution_id, actor=access.member,
                     case=purged)
        return StaffCaseView(
            case=purged, content=None, files=[], thread=[], events=list(purged.events),
            audit_entries=audit.entries_for_case(purged.id), holders=[], grantable=[],
            staff_names=staff_names(purged.institution_id))
    opened = open_case(access, case_id)
    case, case_key = opened.case, opened.key
    content = _content(case, case_key)
    attachments = db.session.scalars(
        select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)).all()
    by_message: dict[int | None, list[FileView]] = {}
    for attachment in attachments:
        by_message.setdefault(attachment.message_id, []).append(_file_view(attachment, case_key))
    names = staff_names(case.institution_id)
    thread = [
        ThreadItem(kind=m.author, created_at=m.created_at,
                   staff_name=names.get(m.staff_id) if m.staff_id is not None else None,
                   body=envelope.open_message(case_key, m.uuid, m.body),
                   files=by_message.get(m.id, []), message_id=m.id)
        for m in db.session.scalars(select(Message).where(Message.case_id == case.id))
    ] + [
        ThreadItem(kind="note", created_at=n.created_at, staff_name=names.get(n.staff_id),
                   body=envelope.open_note(case_key, n.uuid, n.body))
        for n in db.session.scalars(select(Note).where(Note.case_id == case.id))
    ]
    thread.sort(key=lambda item: item.created_at)
    audit.record("case_opened", institution_id=case.institution_id, actor=access.member,
                 case=case)
    notify.requeue_reporter_updates(case, case_key)
    seen_before = inbox.last_seen(access.member, case)
    unread = case.reporter_message_at is not None and (
        seen_before is None or seen_before < case.reporter_message_at)
    inbox.mark_seen(access.member, case)
    holders = key_access.holders(case)
    return StaffCaseView(
        case=case, content=content, files=by_message.get(None, []), thread=thread,
        events=list(case.events),
        audit_entries=audit.entries_for_case(case.id, case=case, case_key=case_key),
        holders=holders,
        grantable=key_access.grantable(case, set(content.get("excluded_staff_ids", [])),
                                       holders),
        staff_names=names, seen_before=seen_before, unread_from_reporter=unread)


def download(opened: OpenCase, attachment_id: int) -> tuple[FileView, Iterable[bytes]]:
    """The file's description and its plaintext, decrypted chunk by chunk as it streams."""
    case, case_key = opened.case, opened.key
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        raise NotAuthorised(_l("You do not have access to this case."))
    view = _file_view(attachment, case_key)
    # Opened (and its first chunk decrypted) before the audit entry: a file that cannot be
    # read raises EvidenceUnavailable here and is not recorded as downloaded.
    chunks = open_attachment(attachment, case_key, view.size)
    audit.record("file_downloaded", institution_id=case.institution_id, actor=opened.member,
                 case=case, detail={"file": attachment.id})
    return view, chunks


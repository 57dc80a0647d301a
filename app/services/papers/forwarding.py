"""The packet sent with a case forwarded to the competent authority (ANI, DNA, police,
prosecutor): the report, its list of files and the message thread as one PDF, and the
evidence files beside it in a ZIP.

The reporter's identity goes in only when their consent to it was recorded on the case (an
`identity_consent` event, set on the forwarding form) and this handler holds the identity
key; otherwise the PDF says it was left out. Internal notes never go in. Every packet is
audited, with whether it carried the identity. Images were stripped of metadata at intake, so
the files go out as stored."""
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...crypto import envelope
from ...extensions import db
from ...models import Attachment, Case, EventKind, KeyKind, Message
from ..access import keys as key_access
from ..access.opened import OpenCase
from ..audit import chain as audit
from ..errors import DomainError
from ..intake.evidence import DecryptedFile, attachment_meta, open_attachment
from ..staff.directory import names as staff_names


class PacketRefused(DomainError):
    pass


@dataclass(frozen=True)
class PacketFile:
    number: int
    name: str
    type: str
    size: int


@dataclass(frozen=True)
class PacketMessage:
    from_reporter: bool
    staff_name: str | None
    created_at: datetime
    body: str


@dataclass(frozen=True)
class PacketContent:
    """Everything the PDF shows, decrypted for this request."""

    case: Case
    report: dict
    identity: dict | None  # None: anonymous, or left out
    consent: bool
    files: list[PacketFile]
    messages: list[PacketMessage]


def consent_recorded(case: Case) -> bool:
    """Whether the reporter's consent to passing on their identity is on the case (its last
    `identity_consent` event gives it)."""
    given = [event for event in case.events if event.kind is EventKind.IDENTITY_CONSENT]
    if not given:
        return False
    try:
        detail = json.loads(given[-1].detail or "{}")
    except ValueError:
        return False
    return isinstance(detail, dict) and detail.get("given") is True


def _identity(opened: OpenCase, consent: bool) -> dict | None:
    case, access = opened.case, opened.access
    if not consent or case.identity is None \
            or not key_access.holds_identity_key(case, access.member):
        return None
    identity_key = key_access.open_case_key(case, access.member, access.private_key,
                                            KeyKind.IDENTITY)
    return envelope.open_identity(identity_key, case.uuid, case.identity)


def _attachments(case: Case) -> list[Attachment]:
    return list(db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                   .order_by(Attachment.id)))


def packet_content(opened: OpenCase, attachments: list[Attachment]) -> PacketContent:
    case, key = opened.case, opened.key
    if case.forwarded_at is None:
        raise PacketRefused(_l("Forward the case first: the packet names the authority and "
                               "the date."))
    consent = consent_recorded(case)
    files = []
    for number, attachment in enumerate(attachments, start=1):
        meta = attachment_meta(attachment, key)
        files.append(PacketFile(number, meta["name"], meta["type"], meta["size"]))
    names = staff_names(case.institution_id)
    messages = [
        PacketMessage(m.author == "reporter", names.get(m.staff_id) if m.staff_id else None,
                      m.created_at, envelope.open_message(key, m.uuid, m.body))
        for m in db.session.scalars(select(Message).where(Message.case_id == case.id)
                                    .order_by(Message.created_at, Message.id))]
    return PacketContent(case, envelope.open_report(key, case.uuid, case.content),
                         _identity(opened, consent), consent, files, messages)


def _record(opened: OpenCase, content: PacketContent, kind: str) -> None:
    case = opened.case
    audit.record("forwarding_packet", institution_id=case.institution_id, actor=opened.member,
                 case=case, detail={"format": kind, "files": len(content.files),
                                    "identity_included": content.identity is not None})


def pdf_packet(opened: OpenCase) -> PacketContent:
    """The PDF's content alone; audited."""
    content = packet_content(opened, _attachments(opened.case))
    _record(opened, content, "pdf")
    return content


def zip_packet(opened: OpenCase) -> tuple[PacketContent, list[tuple[PacketFile, DecryptedFile]]]:
    """The content and every evidence file opened for streaming (each checked now, so a
    missing file refuses the packet before it is recorded); audited."""
    attachments = _attachments(opened.case)
    content = packet_content(opened, attachments)
    opened_files: list[tuple[PacketFile, DecryptedFile]] = []
    try:
        for described, attachment in zip(content.files, attachments, strict=True):
            opened_files.append((described, open_attachment(attachment, opened.key,
                                                            described.size)))
    except DomainError:
        for _, stream in opened_files:
            stream.close()
        raise
    _record(opened, content, "zip")
    return content, opened_files


def archive_name(described: PacketFile) -> str:
    """A file's name inside the ZIP: numbered (names may repeat), no folders from the
    reporter's side (a name like ../x must not climb out when unpacked)."""
    safe = "".join("_" if ch in '/\\:*?"<>|' or ord(ch) < 32 else ch
                   for ch in described.name).strip(". ") or "fisier"
    return f"fisiere/{described.number:02d}-{safe[:150]}"


def iter_files(opened_files: list[tuple[PacketFile, DecryptedFile]]
               ) -> Iterator[tuple[str, DecryptedFile]]:
    for described, stream in opened_files:
        yield archive_name(described), stream

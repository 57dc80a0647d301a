"""A meeting on request (Law 361/2022): the reporter asks to meet or talk, the handler proposes
a time in the message thread, records the minutes afterwards, and the reporter reads, corrects
(by message) and confirms them at follow-up.

What the reporter asked (preferred days, in person or by phone) is encrypted: inside the report
content (`content["meeting"]`) when asked on the report form, in a message when asked at
follow-up. The only plaintext is `Case.meeting_requested`, the inbox's marker; the minutes are
the report's oral-report transcript (`content["transcript"]`), as for a phone or in-person
report taken at manual intake, and `Case.reporter_signed` says whether the reporter confirmed
them.
"""
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...crypto import envelope
from ...extensions import db
from ...models import FROM_REPORTER, EventKind, Message
from ...models.types import utcnow
from ..access.opened import OpenCase
from ..audit import chain as audit
from ..errors import DomainError
from . import inbox
from .events import record_event

if TYPE_CHECKING:  # the follow-up imports casework: a run-time import would be circular
    from ...models import Case
    from ..intake.followup import ReporterAccess

IN_PERSON = "in_person"
PHONE = "phone"
WAYS = {IN_PERSON: _l("In person"), PHONE: _l("By phone")}
MAX_DAYS = 500
MAX_MINUTES = 20000


@dataclass(frozen=True)
class MeetingRequest:
    way: str
    days: str = ""

    def __post_init__(self):
        if self.way not in WAYS:
            raise DomainError(_l("Please choose how you would like to talk: in person or by "
                                 "phone."), field="meeting_way")
        if len(self.days) > MAX_DAYS:
            raise DomainError(_l("Please keep this under %(max)d characters.", max=MAX_DAYS),
                              field="meeting_days")

    def content(self) -> dict:
        """As kept in the encrypted report content."""
        return {"way": self.way, "days": self.days}

    def as_message(self) -> str:
        """As a message of the thread, in the reporter's language."""
        lines = [_("I would like to meet or talk to the designated person."),
                 _("Way: %(way)s", way=WAYS[self.way])]
        if self.days:
            lines.append(_("Preferred days and times: %(days)s", days=self.days))
        return "\n".join(lines)


def requested_on_report(case: "Case", request: MeetingRequest | None) -> None:
    """A report sent with a meeting request (its details are in the sealed content)."""
    if request is None:
        return
    case.meeting_requested = True
    record_event(case, EventKind.MEETING_REQUESTED)


def request_at_followup(access: "ReporterAccess", request: MeetingRequest) -> Message:
    """The reporter asks at follow-up: an encrypted message, the marker and the unread mark."""
    case = access.case
    message = Message(institution_id=case.institution_id, case_id=case.id, author=FROM_REPORTER)
    message.uuid = str(uuid.uuid4())
    message.body = envelope.seal_message(access.case_key, message.uuid, request.as_message())
    db.session.add(message)
    case.meeting_requested = True
    record_event(case, EventKind.MEETING_REQUESTED)
    inbox.reporter_wrote(case)
    case.updated_at = utcnow()
    db.session.flush()
    return message


def record_minutes(opened: OpenCase, minutes: str) -> None:
    """The handler's minutes of the meeting or call become the report's oral-report transcript
    (replacing an earlier version, so a correction the reporter asked for is made here); the
    reporter has to confirm them again, and the request is no longer open."""
    minutes = (minutes or "").strip()
    if not minutes:
        raise DomainError(_l("Please write the minutes."), field="minutes")
    if len(minutes) > MAX_MINUTES:
        raise DomainError(_l("Please keep this under %(max)d characters.", max=MAX_MINUTES),
                          field="minutes")
    case, key = opened.case, opened.key
    if case.content is None:
        raise DomainError(_l("This case was purged: nothing can be added to it."))
    content = envelope.open_report(key, case.uuid, case.content)
    content["transcript"] = minutes
    case.content = envelope.seal_report(key, case.uuid, content)
    case.reporter_signed = False
    case.meeting_requested = False
    case.updated_at = utcnow()
    record_event(case, EventKind.MINUTES_RECORDED, by=opened.member)
    db.session.flush()
    audit.record("minutes_recorded", institution_id=case.institution_id, actor=opened.member,
                 case=case)


class NothingToSign(DomainError):
    pass


def sign_minutes(access: "ReporterAccess") -> None:
    """The reporter confirms ("signs") the minutes they read: recorded as a case event with no
    text, so every handler sees when."""
    case = access.case
    content = envelope.open_report(access.case_key, case.uuid, case.content) \
        if case.content is not None else {}
    if not content.get("transcript") or case.reporter_signed is not False:
        raise NothingToSign(_l("There are no minutes waiting for your confirmation."))
    case.reporter_signed = True
    case.updated_at = utcnow()
    record_event(case, EventKind.MINUTES_SIGNED)
    db.session.flush()

"""Messages from staff to the reporter, read with the receipt; the reporter is told by e-mail
(without content) when they left an address. A message counts as feedback for the 3-month clock."""
import uuid

from flask_babel import lazy_gettext as _l

from ...crypto import envelope
from ...extensions import db
from ...models import FROM_STAFF, Message
from ...models.types import utcnow
from ..access.opened import OpenCase
from ..audit import chain as audit
from ..errors import DomainError
from ..intake.evidence import Evidence, store_evidence
from ..operations import notify
from . import deadlines


def send_staff_message(opened: OpenCase, body: str, evidence: list[Evidence]) -> Message:
    """A message to the reporter, who reads it with the receipt; they are told by e-mail
    (without content) when they left an address."""
    case, case_key, member = opened.case, opened.key, opened.member
    message = Message(institution_id=case.institution_id, case_id=case.id, author=FROM_STAFF,
                      staff_id=member.id)
    message.uuid = str(uuid.uuid4())
    message.body = envelope.seal_message(case_key, message.uuid, body)
    db.session.add(message)
    db.session.add_all([store_evidence(item, case=case, case_key=case_key, author=FROM_STAFF,
                                       message=message) for item in evidence])
    db.session.flush()
    audit.record("message_sent", institution_id=case.institution_id, actor=member,
                 case=case, detail={"message": message.id, "files": len(evidence)})
    notify.reporter_update(case, case_key)
    case.updated_at = utcnow()
    return message


def message_reporter(opened: OpenCase, body: str, evidence: list[Evidence]) -> Message:
    body = (body or "").strip()
    if not body:
        raise DomainError(_l("Please write a message."), field="body")
    message = send_staff_message(opened, body, evidence)
    deadlines.feedback_given(opened.case)  # the 3-month clock stops (services/casework/deadlines.py)
    return message

"""Messages from staff to the reporter, read with the receipt; the reporter is told by e-mail
(without content) when they left an address. A message counts as feedback for the 3-month clock."""
import uuid

from flask_babel import lazy_gettext as _l

from ...crypto import envelope
from ...extensions import db
from ...models import FROM_STAFF, Case, Message
from ...models.types import utcnow
from ..audit import chain as audit
from ..errors import DomainError
from ..intake.evidence import Evidence, store_evidence
from ..operations import notify
from ..staff.sign_in import StaffAccess
from . import deadlines
from .case_view import open_case_key


def send_staff_message(access: StaffAccess, case: Case, case_key: bytes, body: str,
                       evidence: list[Evidence]) -> Message:
    """A message to the reporter, who reads it with the receipt; they are told by e-mail
    (without content) when they left an address."""
    message = Message(institution_id=case.institution_id, case_id=case.id, author=FROM_STAFF,
                      staff_id=access.member.id)
    message.uuid = str(uuid.uuid4())
    message.body = envelope.seal_message(case_key, message.uuid, body)
    db.session.add(message)
    db.session.add_all([store_evidence(item, case=case, case_key=case_key, author=FROM_STAFF,
                                       message=message) for item in evidence])
    db.session.flush()
    audit.record("message_sent", institution_id=case.institution_id, actor=access.member,
                 case=case, detail={"message": message.id, "files": len(evidence)})
    notify.reporter_update(case, case_key)
    case.updated_at = utcnow()
    return message


def message_reporter(access: StaffAccess, case_id: int, body: str,
                     evidence: list[Evidence]) -> Message:
    case, case_key = open_case_key(access, case_id)
    body = (body or "").strip()
    if not body:
        raise DomainError(_l("Please write a message."), field="body")
    message = send_staff_message(access, case, case_key, body, evidence)
    deadlines.feedback_given(case)  # the 3-month clock stops (services/casework/deadlines.py)
    return message

"""Internal notes on a case: encrypted under the case key, never shown to the reporter, audited."""
import uuid

from flask_babel import lazy_gettext as _l

from ...crypto import envelope
from ...extensions import db
from ...models import Note
from ..audit import chain as audit
from ..errors import DomainError
from ..staff.sign_in import StaffAccess
from .case_view import open_case_key

MAX_NOTE = 10000


def add_note(access: StaffAccess, case_id: int, body: str) -> Note:
    """An internal note, encrypted under the case key; never shown to the reporter."""
    case, case_key = open_case_key(access, case_id)
    body = (body or "").strip()
    if not body:
        raise DomainError(_l("Please write the note."), field="body")
    note = Note(institution_id=case.institution_id, case_id=case.id, staff_id=access.member.id)
    note.uuid = str(uuid.uuid4())
    note.body = envelope.seal_note(case_key, note.uuid, body[:MAX_NOTE])
    db.session.add(note)
    db.session.flush()
    audit.record("note_added", institution_id=case.institution_id, actor=access.member,
                 case=case, detail={"note": note.id})
    return note

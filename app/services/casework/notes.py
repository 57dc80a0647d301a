"""Internal notes on a case: encrypted under the case key, never shown to the reporter, audited."""
import uuid

from flask_babel import lazy_gettext as _l

from ...crypto import envelope
from ...extensions import db
from ...models import Note
from ..access.opened import OpenCase
from ..audit import chain as audit
from ..errors import DomainError

MAX_NOTE = 10000


def add_note(opened: OpenCase, body: str) -> Note:
    """An internal note, encrypted under the case key; never shown to the reporter."""
    case, case_key = opened.case, opened.key
    body = (body or "").strip()
    if not body:
        raise DomainError(_l("Please write the note."), field="body")
    note = Note(institution_id=case.institution_id, case_id=case.id, staff_id=opened.member.id)
    note.uuid = str(uuid.uuid4())
    note.body = envelope.seal_note(case_key, note.uuid, body[:MAX_NOTE])
    db.session.add(note)
    db.session.flush()
    audit.record("note_added", institution_id=case.institution_id, actor=opened.member,
                 case=case, detail={"note": note.id})
    return note

"""A case's history: every case event is written here, by intake, the workflow, redaction and
the reporter's follow-up alike.

An event holds plain metadata of the step (statuses, regime, outcome, dates, ids, counts) as
JSON; the history is shown to every handler of the case and its kinds feed the statistics
(services/indicators/clocks.py). What someone typed that may quote the report or name the
reporter (a reason, a passage, an identity) never goes in: the audit log keeps a reason sealed
under the case key instead (services/audit/chain.py).
"""
import json
from datetime import datetime

from ...extensions import db
from ...models import Case, CaseEvent, EventKind, StaffMember

# Detail names that would carry typed text or identity; refused so that no caller slips one in.
NEVER_IN_DETAIL = frozenset({"reason", "passage", "body", "text", "content", "identity", "name",
                             "email", "phone"})


def record_event(case: Case, kind: EventKind, by: StaffMember | None = None, *,
                 at: datetime | None = None, **detail) -> CaseEvent:
    """Add one event to the case's history: `by` the staff member who acted (None for the
    reporter), `at` a moment other than now (a manual intake's arrival), `detail` plain values.
    ValueError for a detail that could hold content or identity."""
    refused = NEVER_IN_DETAIL & detail.keys()
    if refused:
        raise ValueError(f"case events hold no typed text: {sorted(refused)}")
    event = CaseEvent(case=case, institution_id=case.institution_id, kind=EventKind(kind),
                      actor_staff_id=by.id if by is not None else None,
                      detail=json.dumps(detail, sort_keys=True, default=str, ensure_ascii=False)
                      if detail else None)
    if at is not None:
        event.at = at
    db.session.add(event)
    return event

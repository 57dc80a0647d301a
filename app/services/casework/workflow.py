"""The life of a case: triage, acknowledge, assess, investigate, close, forward, extend.

Each step works on an OpenCase (access/opened.py: the handler's role and key checked once per
request), refuses illegal transitions with a clear message,
records a case event and an audit entry, and recomputes the legal deadlines.
"""
import json
from datetime import date

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Case, Category, EventKind, Outcome, Regime, StaffMember, Status
from ...models.types import utcnow
from ..access.keys import holds_key
from ..access.opened import OpenCase
from ..audit import chain as audit
from ..errors import DomainError
from ..localtime import local_date, local_noon, local_today
from . import deadlines
from .events import record_event
from .messages import send_staff_message

OPEN = {Status.RECEIVED, Status.ACKNOWLEDGED, Status.ASSESSMENT, Status.INVESTIGATION}


class IllegalTransition(DomainError):
    pass


def _record(opened: OpenCase, kind: EventKind, **detail) -> None:
    case = opened.case
    record_event(case, kind, by=opened.member, **detail)
    audit.record(kind, institution_id=case.institution_id, actor=opened.member, case=case,
                 detail=detail or "")
    case.updated_at = utcnow()
    deadlines.refresh(case)


def _require_status(case: Case, allowed: set[Status], message) -> None:
    if case.status not in allowed:
        raise IllegalTransition(message)


def _require_message(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise IllegalTransition(_l("Write the message the reporter will receive."),
                                field="message")
    return text


def triage(opened: OpenCase, *, regime: Regime, category: Category,
           examine_anonymous: bool | None = None) -> Case:
    """Decide which law applies (and the category). For an anonymous petition the decision
    to examine it anyway is recorded (OG 27/2002 allows closing it)."""
    case = opened.case
    _require_status(case, OPEN, _l("A closed case cannot be triaged; reopen it first."))
    if regime is Regime.FORWARDED and case.forwarded_at is not None:
        raise IllegalTransition(_l("This case has already been forwarded."))
    case.regime, case.category = regime, category
    detail: dict[str, object] = {"regime": regime.value, "category": category.value}
    if case.anonymous and regime is Regime.PETITION:
        detail["examine_anonymous"] = bool(examine_anonymous)
    _record(opened, EventKind.TRIAGED, **detail)
    return case


def acknowledge(opened: OpenCase, message: str) -> Case:
    """Confirm receipt to the reporter (Law 361/2022: within 7 days)."""
    case = opened.case
    _require_status(case, OPEN, _l("This case is already closed."))
    if case.acknowledged_at is not None:
        raise IllegalTransition(_l("This case has already been acknowledged."))
    send_staff_message(opened, _require_message(message), [])
    # A case already in assessment keeps its status; the 7-day clock is met all the same.
    if case.status is Status.RECEIVED:
        case.status = Status.ACKNOWLEDGED
    case.acknowledged_at = utcnow()
    _record(opened, EventKind.ACKNOWLEDGED)
    return case


def start_assessment(opened: OpenCase) -> Case:
    case = opened.case
    _require_status(case, {Status.RECEIVED, Status.ACKNOWLEDGED},
                    _l("Only a received or acknowledged case can move to assessment."))
    if case.regime is None:
        raise IllegalTransition(_l("Triage the case first: choose the law that applies."))
    previous, case.status = case.status, Status.ASSESSMENT
    _record(opened, EventKind.STATUS_CHANGED,
            **{"from": previous.value, "to": Status.ASSESSMENT.value})
    return case


def start_investigation(opened: OpenCase) -> Case:
    case = opened.case
    _require_status(case, {Status.ASSESSMENT},
                    _l("A case moves to investigation from assessment."))
    case.status = Status.INVESTIGATION
    _record(opened, EventKind.STATUS_CHANGED, **{"from": Status.ASSESSMENT.value,
                                                "to": Status.INVESTIGATION.value})
    return case


def close(opened: OpenCase, outcome: Outcome,
          message: str) -> Case:
    """Conclude with an outcome and a reasoned answer to the reporter."""
    case = opened.case
    _require_status(case, OPEN, _l("This case is already closed."))
    if outcome is Outcome.FORWARDED:
        raise IllegalTransition(_l("Use “Forward” to send the case to another authority."),
                                field="outcome")
    if case.regime is None:
        raise IllegalTransition(_l("Triage the case first: choose the law that applies."))
    send_staff_message(opened, _require_message(message), [])
    previous = case.status
    case.status, case.outcome, case.closed_at = Status.CLOSED, outcome, utcnow()
    _record(opened, EventKind.CLOSED,
            **{"from": previous.value, "outcome": outcome.value})
    return case


def forward(opened: OpenCase, authority: str,
            forwarded_on: date, message: str, identity_consent: bool = False) -> Case:
    """Send the facts to the competent authority, record where and when, tell the reporter.
    `identity_consent`: the reporter agreed that their identity goes too (recorded as an
    event; the forwarding packet then carries it, services/papers/forwarding.py)."""
    case = opened.case
    _require_status(case, OPEN, _l("This case is already closed."))
    authority = (authority or "").strip()
    if not authority:
        raise IllegalTransition(_l("Name the authority the case goes to."), field="authority")
    if forwarded_on > local_today():
        raise IllegalTransition(_l("The date cannot be in the future."), field="forwarded_on")
    if forwarded_on < local_date(case.received_at):
        raise IllegalTransition(_l("The date cannot be before the report was received."),
                                field="forwarded_on")
    send_staff_message(opened, _require_message(message), [])
    now = utcnow()
    case.regime, case.forwarded_to = Regime.FORWARDED, authority[:200]
    # Noon of that Romanian day, but never later than now (a forward recorded this morning).
    case.forwarded_at = min(local_noon(forwarded_on), now)
    case.status, case.outcome, case.closed_at = Status.CLOSED, Outcome.FORWARDED, now
    _record(opened, EventKind.FORWARDED, authority=case.forwarded_to,
            on=forwarded_on.isoformat())
    if identity_consent and case.identity is not None:
        _record(opened, EventKind.IDENTITY_CONSENT, given=True)
    return case


def extend(opened: OpenCase, message: str) -> Case:
    """OG 27/2002: once, by 15 days, telling the petitioner why."""
    case = opened.case
    _require_status(case, OPEN, _l("This case is already closed."))
    if case.regime is not Regime.PETITION:
        raise IllegalTransition(_l("Only a petition's deadline can be extended."))
    if case.extended_at is not None:
        raise IllegalTransition(_l("The deadline has already been extended once."))
    send_staff_message(opened, _require_message(message), [])
    case.extended_at = utcnow()
    _record(opened, EventKind.EXTENDED, days=deadlines.EXTENSION.days)
    return case


def reopen(opened: OpenCase) -> Case:
    """Back to assessment, e.g. when the reporter brings new facts after closing."""
    case = opened.case
    _require_status(case, {Status.CLOSED}, _l("Only a closed case can be reopened."))
    if case.outcome is Outcome.FORWARDED:
        raise IllegalTransition(_l("A forwarded case belongs to another authority now."))
    previous_outcome = case.outcome
    case.status, case.outcome, case.closed_at = Status.ASSESSMENT, None, None
    _record(opened, EventKind.REOPENED,
            previous_outcome=previous_outcome and previous_outcome.value)
    return case


def assign(opened: OpenCase, to_member_id: int | None) -> Case:
    case = opened.case
    if to_member_id is not None:
        member = db.session.get(StaffMember, to_member_id)
        if member is None or member.institution_id != case.institution_id \
                or not holds_key(case, member):
            raise IllegalTransition(_l("Assign the case to a handler who holds its key."))
    case.assigned_staff_id = to_member_id
    _record(opened, EventKind.ASSIGNED, to=to_member_id)
    return case


def examine_anonymous_decision(case: Case) -> bool | None:
    """The last triage's choice to examine an anonymous petition anyway (None: never asked)."""
    for event in reversed(case.events):
        if event.kind is EventKind.TRIAGED:
            try:
                detail = json.loads(event.detail or "{}")
            except ValueError:
                return None
            return detail.get("examine_anonymous") if isinstance(detail, dict) else None
    return None

"""Legal clocks, in calendar days.

- Law 361/2022 (whistleblower report): acknowledge within 7 days; feedback within 3 months of
  the acknowledgement, or of the end of the 7 days when none was sent.
- OG 27/2002 (petition): answer within 30 days, extendable once by 15 days.
- Not competent: forward within 5 days.

One definition of "done" per clock, used by the inbox, the case page, "cases overdue now" and
the statistics (services/indicators/clocks.py) alike:

- Acknowledgement: done at the acknowledgement, or at the first closing or forwarding when
  the case was closed before it was acknowledged (the reporter heard from the institution).
- Feedback: done at `feedback_given_at`, the first of: a message from staff to the reporter
  other than the acknowledgement itself, the closing of the case with its reasoned answer,
  the forwarding. It is kept when the case is reopened.
- Answer (petition): done at the first closing.
- Forward: done when the case is forwarded (`forwarded_at`, the day the handler gives).
"""
import calendar
from datetime import datetime, timedelta

from ...models import Case, DeadlineKind, Regime, Status
from ...models.types import utcnow

ACKNOWLEDGE_WITHIN = timedelta(days=7)
FEEDBACK_MONTHS = 3
ANSWER_WITHIN = timedelta(days=30)
EXTENSION = timedelta(days=15)
FORWARD_WITHIN = timedelta(days=5)

def add_months(moment: datetime, months: int) -> datetime:
    """Same day of the month `months` later; the month's last day when that day is missing
    (30 November + 3 months = 28 or 29 February)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def acknowledge_due(received_at: datetime) -> datetime:
    return received_at + ACKNOWLEDGE_WITHIN


def feedback_due(received_at: datetime, acknowledged_at: datetime | None) -> datetime:
    start = acknowledged_at or acknowledge_due(received_at)
    return add_months(start, FEEDBACK_MONTHS)


def answer_due(received_at: datetime, extended: bool) -> datetime:
    return received_at + ANSWER_WITHIN + (EXTENSION if extended else timedelta(0))


def forward_due(received_at: datetime) -> datetime:
    return received_at + FORWARD_WITHIN


def feedback_given(case: Case, at: datetime | None = None) -> None:
    """Record that the reporter had feedback (a staff message other than the
    acknowledgement, a closing or a forwarding); only the first time counts."""
    if case.feedback_given_at is None:
        case.feedback_given_at = at or utcnow()
    refresh(case)


def refresh(case: Case) -> None:
    """Recompute the case's deadlines and its next open one from its regime and history."""
    if case.status is Status.CLOSED and case.feedback_given_at is None:
        # Closing and forwarding carry a reasoned answer to the reporter.
        case.feedback_given_at = case.closed_at or utcnow()
    case.acknowledge_due_at = acknowledge_due(case.received_at)
    # Forwarded reports keep their Law 361/2022 clocks: forwarding is their feedback.
    case.feedback_due_at = (feedback_due(case.received_at, case.acknowledged_at)
                            if case.regime is not Regime.PETITION else None)
    case.answer_due_at = (answer_due(case.received_at, case.extended_at is not None)
                          if case.regime is Regime.PETITION else None)
    case.forward_due_at = (forward_due(case.received_at)
                           if case.regime is Regime.FORWARDED else None)
    kind, due = _next_deadline(case)
    case.next_deadline_kind, case.next_deadline_at = kind, due


def _next_deadline(case: Case) -> tuple[DeadlineKind | None, datetime | None]:
    if case.status is Status.CLOSED:
        return None, None
    if case.regime is Regime.PETITION:
        return DeadlineKind.ANSWER, case.answer_due_at
    if case.regime is Regime.FORWARDED:
        return DeadlineKind.FORWARD, case.forward_due_at
    # Whistleblower reports, and reports not yet triaged (the strictest clock applies).
    if case.acknowledged_at is None:
        return DeadlineKind.ACKNOWLEDGE, case.acknowledge_due_at
    if case.feedback_given_at is None:
        return DeadlineKind.FEEDBACK, case.feedback_due_at
    return None, None  # acknowledged and answered: no legal deadline is open


def days_left(case: Case, now: datetime | None = None) -> int | None:
    """Whole days until the next deadline (negative when overdue), or None when none is open."""
    if case.next_deadline_at is None:
        return None
    # timedelta.days floors: due in 20 hours is 0 ("today"), 1 hour late is -1.
    return (case.next_deadline_at - (now or utcnow())).days


def is_overdue(case: Case, now: datetime | None = None) -> bool:
    return case.next_deadline_at is not None and case.next_deadline_at < (now or utcnow())

"""The legal clocks of app/services/casework/deadlines.py, as pure rules (no database, no request).

Law 361/2022: acknowledge within 7 calendar days; feedback within 3 months of the
acknowledgement, or of the end of the 7 days when none was sent.
OG 27/2002: answer within 30 days, extendable once by 15; forward within 5 days.
"""
from datetime import UTC, datetime, timedelta

import pytest

from app.models import Case, DeadlineKind, Regime, Status
from app.services.casework import deadlines
from app.services.casework.deadlines import (
    acknowledge_due,
    add_months,
    answer_due,
    days_left,
    feedback_due,
    forward_due,
    is_overdue,
    refresh,
)


def at(year, month, day, hour=10, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- add_months at the ends of months -----------------------------------------------------

@pytest.mark.parametrize(("start", "months", "expected"), [
    (at(2026, 1, 31), 3, at(2026, 4, 30)),       # April has 30 days
    (at(2026, 11, 30), 3, at(2027, 2, 28)),      # 2027 is not a leap year
    (at(2027, 11, 30), 3, at(2028, 2, 29)),      # 2028 is
    (at(2028, 2, 29), 3, at(2028, 5, 29)),       # the day exists in May: kept
    (at(2026, 1, 15), 3, at(2026, 4, 15)),       # the ordinary case
    (at(2026, 10, 31), 3, at(2027, 1, 31)),      # across the year end, day kept
    (at(2026, 12, 31), 2, at(2027, 2, 28)),      # across the year end, clamped
    (at(2026, 3, 31), 12, at(2027, 3, 31)),      # a whole year
    (at(2026, 8, 31, 23, 59), 1, at(2026, 9, 30, 23, 59)),  # the time of day is kept
])
def test_add_months_keeps_the_day_or_takes_the_months_last_day(start, months, expected):
    result = add_months(start, months)
    assert result == expected
    assert result.tzinfo is UTC


# --- Law 361/2022 ---------------------------------------------------------------------------

def test_acknowledgement_is_due_seven_calendar_days_later_across_month_and_year_end():
    assert acknowledge_due(at(2026, 1, 28, 15, 30)) == at(2026, 2, 4, 15, 30)
    assert acknowledge_due(at(2026, 12, 28, 23, 0)) == at(2027, 1, 4, 23, 0)
    assert acknowledge_due(at(2028, 2, 25)) == at(2028, 3, 3)  # through 29 February


def test_feedback_runs_from_the_acknowledgement_when_one_was_sent():
    received = at(2026, 1, 10)
    assert feedback_due(received, at(2026, 1, 12, 9, 0)) == at(2026, 4, 12, 9, 0)
    # Acknowledged on 31 January: three months later is the last day of April.
    assert feedback_due(at(2026, 1, 29), at(2026, 1, 31)) == at(2026, 4, 30)


def test_feedback_runs_from_the_end_of_the_seven_days_when_none_was_sent():
    # Received 24 November: the 7 days end on 1 December; feedback by 1 March.
    assert feedback_due(at(2026, 11, 24), None) == at(2027, 3, 1)
    # Received 23 November 2027: the 7 days end on 30 November; 29 February 2028 (leap).
    assert feedback_due(at(2027, 11, 23), None) == at(2028, 2, 29)
    assert feedback_due(at(2026, 11, 23), None) == at(2027, 2, 28)


# --- OG 27/2002 -------------------------------------------------------------------------------

def test_petition_answer_in_thirty_days_and_one_extension_of_fifteen():
    received = at(2026, 1, 20)
    assert answer_due(received, extended=False) == at(2026, 2, 19)
    assert answer_due(received, extended=True) == at(2026, 3, 6)
    assert answer_due(received, extended=True) - received == timedelta(days=45)
    assert deadlines.ANSWER_WITHIN == timedelta(days=30)
    assert deadlines.EXTENSION == timedelta(days=15)


def test_forward_within_five_days():
    assert forward_due(at(2026, 12, 29)) == at(2027, 1, 3)
    assert deadlines.FORWARD_WITHIN == timedelta(days=5)


# --- refresh(): the next deadline per regime and status ------------------------------------

def new_case(received, **fields) -> Case:
    case = Case(received_at=received, status=fields.pop("status", Status.RECEIVED),
                regime=fields.pop("regime", None), acknowledged_at=None, extended_at=None,
                **fields)
    refresh(case)
    return case


RECEIVED = at(2026, 3, 2)


def test_untriaged_case_runs_on_the_strictest_clock():
    case = new_case(RECEIVED)
    assert (case.next_deadline_kind, case.next_deadline_at) == (DeadlineKind.ACKNOWLEDGE, at(2026, 3, 9))
    assert case.acknowledge_due_at == at(2026, 3, 9)
    assert case.feedback_due_at == at(2026, 6, 9)  # 3 months from the end of the 7 days
    assert case.answer_due_at is None and case.forward_due_at is None


def test_whistleblower_case_moves_from_acknowledgement_to_feedback():
    case = new_case(RECEIVED, regime=Regime.WHISTLEBLOWER)
    assert case.next_deadline_kind == DeadlineKind.ACKNOWLEDGE
    case.acknowledged_at, case.status = at(2026, 3, 4, 16, 0), Status.ACKNOWLEDGED
    refresh(case)
    assert (case.next_deadline_kind, case.next_deadline_at) == (DeadlineKind.FEEDBACK, at(2026, 6, 4, 16, 0))
    case.status = Status.INVESTIGATION
    refresh(case)
    assert case.next_deadline_kind == DeadlineKind.FEEDBACK


def test_petition_answers_in_thirty_days_then_forty_five_once_extended():
    case = new_case(RECEIVED, regime=Regime.PETITION, status=Status.ASSESSMENT)
    assert (case.next_deadline_kind, case.next_deadline_at) == (DeadlineKind.ANSWER, at(2026, 4, 1))
    assert case.feedback_due_at is None and case.forward_due_at is None
    case.extended_at = at(2026, 3, 20)
    refresh(case)
    assert (case.next_deadline_kind, case.next_deadline_at) == (DeadlineKind.ANSWER, at(2026, 4, 16))


def test_forwarded_regime_must_be_forwarded_in_five_days():
    case = new_case(RECEIVED, regime=Regime.FORWARDED)
    assert (case.next_deadline_kind, case.next_deadline_at) == (DeadlineKind.FORWARD, at(2026, 3, 7))
    # Forwarded reports stay under Law 361/2022's feedback clock: forwarding is the feedback.
    assert case.feedback_due_at == at(2026, 6, 9) and case.answer_due_at is None


@pytest.mark.parametrize("regime", [None, Regime.WHISTLEBLOWER, Regime.PETITION,
                                    Regime.FORWARDED])
def test_closing_clears_the_next_deadline(regime):
    case = new_case(RECEIVED, regime=regime)
    assert case.next_deadline_at is not None
    case.status = Status.CLOSED
    refresh(case)
    assert case.next_deadline_kind is None and case.next_deadline_at is None
    # Reopening gives it back.
    case.status = Status.ASSESSMENT
    refresh(case)
    assert case.next_deadline_at is not None


def test_changing_the_regime_recomputes_every_clock():
    case = new_case(RECEIVED, regime=Regime.PETITION)
    case.regime = Regime.WHISTLEBLOWER
    refresh(case)
    assert case.answer_due_at is None and case.next_deadline_kind == DeadlineKind.ACKNOWLEDGE


# --- days_left / is_overdue around the boundary ---------------------------------------------

def test_days_left_and_overdue_around_the_deadline():
    case = new_case(RECEIVED)
    due = case.next_deadline_at
    assert days_left(case, due - timedelta(days=3)) == 3
    assert days_left(case, due - timedelta(days=1)) == 1
    assert days_left(case, due - timedelta(hours=20)) == 0  # due today
    assert days_left(case, due) == 0
    assert days_left(case, due + timedelta(hours=1)) == -1  # an hour late is a day late
    assert days_left(case, due + timedelta(days=2, hours=1)) == -3

    assert not is_overdue(case, due - timedelta(seconds=1))
    assert not is_overdue(case, due)  # due means "by then"
    assert is_overdue(case, due + timedelta(seconds=1))


def test_no_deadline_is_never_overdue():
    case = new_case(RECEIVED)
    case.status = Status.CLOSED
    refresh(case)
    assert days_left(case, RECEIVED) is None
    assert not is_overdue(case, RECEIVED + timedelta(days=400))

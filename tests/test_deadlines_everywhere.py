"""One definition of each legal deadline, the same in the inbox, on the case page, in "cases
overdue now" and in the statistics; days counted in Bucharest time."""

import pytest

from app.extensions import db
from app.models import Case, Regime, Role, UsageCounter
from app.services.indicators import compute as stats
from app.services.indicators import usage
from app.services.indicators.periods import Period
from app.services.intake.references import next_reference
from app.services.transaction import unit_of_work
from tests.support.desk import Desk, utc


@pytest.fixture
def desk(institution, make_handler, kdf_params):
    return Desk(institution, make_handler("Ana Popescu"), kdf_params)


def test_feedback_given_late_is_not_overdue_for_ever(desk, sign_in, make_handler):
    """Acknowledged on time, feedback sent late (day 110), then nothing: the case used to read
    "Feedback overdue by 566 days" in the inbox, on its page and in "cases overdue now"."""
    case = desk.receive()
    desk.triage(case, Regime.WHISTLEBLOWER)
    desk.acknowledge(case)
    desk.age(case, days=110)
    desk.message(case)
    desk.age(case, days=566)
    db.session.expire_all()
    stored = db.session.get(Case, case.id)
    assert stored.feedback_given_at is not None
    assert stored.next_deadline_at is None and stored.next_deadline_kind is None
    staff = sign_in(desk.handler)
    inbox = staff.get("/staff/cases").get_data(as_text=True)
    assert stored.reference in inbox and "overdue by" not in inbox
    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "overdue by" not in page
    coordinator = make_handler("Carmen Coordonatoare", roles=(Role.COORDINATOR,))
    figures = stats.dashboard(coordinator, Period.year(stored.feedback_due_at.year))
    assert figures.overdue_now.cells["feedback"] == 0
    # The statistics still count that feedback as late, in the period it was due.
    assert figures.feedback.cells["late"] == 1 and figures.feedback.cells["met"] == 0


def test_a_case_without_feedback_is_overdue_in_every_place(desk, sign_in, make_handler):
    case = desk.receive()
    desk.triage(case, Regime.WHISTLEBLOWER)
    desk.acknowledge(case)
    desk.age(case, days=120)
    staff = sign_in(desk.handler)
    assert "overdue by" in staff.get("/staff/cases").get_data(as_text=True)
    coordinator = make_handler("Carmen Coordonatoare", roles=(Role.COORDINATOR,))
    assert stats.dashboard(coordinator, Period.year(2020)).overdue_now.cells["feedback"] == 1


def test_a_late_acknowledgement_stays_late_once_the_case_is_forwarded(desk, make_handler):
    case = desk.receive()
    desk.age(case, days=10)
    desk.forward(case)
    desk.place(case, utc(2025, 3, 3, 10))
    coordinator = make_handler("Carmen Coordonatoare", roles=(Role.COORDINATOR,))
    figures = stats.dashboard(coordinator, Period.year(2025))
    assert figures.acknowledgement.cells["late"] == 1
    assert figures.forwarding.due == 1 and figures.forwarding.cells["late"] == 1


def test_usage_days_and_reference_years_are_bucharest_days(app, institution):
    new_year_bucharest = utc(2025, 12, 31, 22, 30)  # 00:30 on 1 January 2026 in Bălțați
    with unit_of_work():
        usage.count(institution.id, usage.FOLLOW_UP_LOGIN, now=new_year_bucharest)
    row = db.session.query(UsageCounter).one()
    assert row.day.isoformat() == "2026-01-01"
    with unit_of_work():
        assert next_reference(institution.id, new_year_bucharest) == "SES-2026-0001"
        assert next_reference(institution.id, utc(2025, 12, 31, 21, 30)) == "SES-2025-0001"

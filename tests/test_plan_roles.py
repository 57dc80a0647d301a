"""The plan contributor: sees the plan and what is due for their own measures, records
progress only on the measures assigned to them, and never reaches a case, the statistics of
cases (not even as the plan's computed figures) or an identity. Checked in the services as
well as through the pages."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import PlanMeasure, Role
from app.services.errors import NotAuthorised
from app.services.indicators import compute as stats
from app.services.indicators.periods import Period
from app.services.localtime import local_today
from app.services.plan import data, editing, evaluation, following, workspace
from app.services.plan.loader import store_plan
from tests.conftest import CSRF_RE

YEAR = local_today().year


@pytest.fixture
def plan(app, institution):
    stored = store_plan(institution, data.shipped())
    db.session.commit()
    return stored


def measure(code: str) -> PlanMeasure:
    return db.session.scalar(select(PlanMeasure).where(PlanMeasure.code == code))


@pytest.fixture
def people(plan, make_handler):
    coordinator = make_handler("Ioana Coordonator", roles=(Role.COORDINATOR,))
    contributor = make_handler("Paul Contributor", roles=(Role.PLAN_CONTRIBUTOR,))
    editing.assign(coordinator, measure("3.2").id, [contributor.id])
    db.session.commit()
    return coordinator, contributor


def test_contributor_role_is_not_a_reader_and_needs_no_confirmation(people):
    _, contributor = people
    assert not contributor.is_reader
    assert contributor.has_role(Role.PLAN_CONTRIBUTOR)


def test_the_services_keep_the_contributor_to_their_measures(people, submit):
    coordinator, contributor = people
    submit()
    with pytest.raises(NotAuthorised):
        following.set_status(contributor, measure("2.2").id, YEAR,
                             following.MeasureStatus.IMPLEMENTED)
    following.set_status(contributor, measure("3.2").id, YEAR,
                         following.MeasureStatus.IN_PROGRESS)
    with pytest.raises(NotAuthorised):
        evaluation.build(contributor, YEAR)
    with pytest.raises(NotAuthorised):
        editing.revise_measure(contributor, measure("3.2").id, {"code": "3.2", "text": "x"})
    with pytest.raises(NotAuthorised):
        stats.dashboard(contributor, Period.year(YEAR))
    page = workspace.measure_page(contributor, measure("2.2").id, YEAR)
    assert not page.may_follow
    assert all(row.figure is None for row in page.indicators)  # no count of reports
    assert workspace.measure_page(coordinator, measure("2.2").id, YEAR).indicators[0] \
        .figure.value == "1"
    view = workspace.overview(contributor, YEAR)
    assert {due.measure.code for due in view.due} <= {"3.2"}


def test_through_the_pages(people, sign_in, submit):
    _, contributor = people
    submit()
    browser = sign_in(contributor)
    assert browser.get("/staff/").headers["Location"].endswith("/staff/plan")
    page = browser.get("/staff/plan").get_data(as_text=True)
    assert "3.2" in page and "Integrity plan" in page
    assert "/staff/cases" not in page and "/staff/stats" not in page
    for url in ("/staff/cases", "/staff/stats", "/staff/intake", "/staff/identity-requests",
                f"/staff/plan/evaluation/{YEAR}", f"/staff/plan/evaluation/{YEAR}.csv",
                "/staff/plan/measures/new", "/staff/admin/"):
        assert browser.get(url).status_code == 403, url
    other = browser.get(f"/staff/plan/measures/{measure('2.2').id}").get_data(as_text=True)
    assert "Save the status" not in other and "shown to the coordinator" in other
    mine_url = f"/staff/plan/measures/{measure('3.2').id}?year={YEAR}"
    token = CSRF_RE.search(browser.get(mine_url).get_data(as_text=True)).group(1)
    response = browser.post(f"/staff/plan/measures/{measure('3.2').id}/progress?year={YEAR}",
                            data={"csrf_token": token, "happened_on": local_today().isoformat(),
                                  "text": "Setul „Sesizări 2025” publicat pe data.gov.ro"})
    assert response.status_code == 302
    refused = browser.post(f"/staff/plan/measures/{measure('2.2').id}/progress?year={YEAR}",
                           data={"csrf_token": token, "happened_on": local_today().isoformat(),
                                 "text": "Nu ar trebui"})
    assert refused.status_code == 403

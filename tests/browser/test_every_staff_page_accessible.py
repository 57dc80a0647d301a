"""axe-core on every staff page, through gunicorn: each back-office GET route without
parameters, visited by the roles that may open it (a handler, a coordinator, an
administrator, a custodian, the platform operator, an observer), plus the pages of one case, one plan
measure, one staff account and one institution on the operator's pages.

The list of pages is read from the application's URL map, so a page added later is audited
without touching this file; a route no role can open as a page fails the test unless it is
named below with the reason.
"""
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import PlanMeasure, Role
from app.services.plan import data as plan_data
from app.services.plan.loader import store_plan
from tests.browser.test_accessibility import AxeAudit
from tests.support.desk import Desk
from tests.support.staff import make_observer, make_operator, sign_in_page

pytestmark = pytest.mark.browser

# GET routes that are not pages a person reads: files, redirects and sign-in steps (the
# sign-in pages are audited by the journeys that sign in).
NOT_PAGES = {
    "auth.login", "auth.second_factor", "backoffice.home", "stats.annual_latest",
}


def _staff_pages(app) -> list[str]:
    pages = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or "GET" not in (rule.methods or ()):
            continue
        if rule.arguments or rule.endpoint in NOT_PAGES or "." in rule.rule.rsplit("/", 1)[-1]:
            continue  # a parameter, not a page, or a file (.csv, .pdf, .docx, .zip…)
        pages.append(rule.rule)
    return sorted(pages)


@pytest.fixture
def people(portal, app, institution, make_handler, kdf_params):
    handler = make_handler("Ana Popescu")
    coordinator = make_handler("Carmen Coordonatoare", roles=(Role.COORDINATOR,))
    admin = make_handler("Alin Administrator", roles=(Role.ADMIN,))
    custodian = make_handler("Cornel Custode", roles=(Role.CUSTODIAN,))
    case = Desk(institution, handler, kdf_params).receive(anonymous=False)
    store_plan(institution, plan_data.shipped()).published = True
    db.session.commit()
    measure = db.session.scalars(select(PlanMeasure).order_by(PlanMeasure.id)).first()
    operator, observer = make_operator(app), make_observer(app, "*")
    found = SimpleNamespace(
        handler=SimpleNamespace(email=handler.email, password=handler.password),
        coordinator=SimpleNamespace(email=coordinator.email, password=coordinator.password),
        admin=SimpleNamespace(email=admin.email, password=admin.password),
        custodian=SimpleNamespace(email=custodian.email, password=custodian.password),
        operator=SimpleNamespace(email=operator.email, password=operator.password),
        observer=SimpleNamespace(email=observer.email, password=observer.password),
        extra={"handler": [f"/staff/cases/{case.id}"],
               "coordinator": [f"/staff/plan/measures/{measure.id}"],
               "admin": [f"/staff/admin/staff/{handler.id}"], "custodian": [],
               "operator": [f"/staff/platform/institutions/{institution.slug}"],
               "observer": []})
    db.session.close()
    return found


def test_every_staff_page_has_no_serious_accessibility_violation(app, new_page, people):
    audit = AxeAudit("ro")
    opened: set[str] = set()
    for role in ("handler", "coordinator", "admin", "custodian", "operator", "observer"):
        page = new_page(java_script_enabled=True)
        sign_in_page(page, getattr(people, role), home=r"/staff/(?!login)")
        for path in _staff_pages(app) + people.extra[role]:
            answer = page.goto(path)
            assert answer is not None and answer.status < 500, f"{role} {path}: {answer}"
            if answer.status != 200 or "text/html" not in answer.headers.get("content-type", ""):
                continue  # not this role's page (403) or not a page
            opened.add(path)
            audit.check(page, f"{role} {path}")
        page.context.close()
    never = [path for path in _staff_pages(app) if path not in opened]
    assert not never, f"staff pages no role could open (name them in NOT_PAGES with why): {never}"
    assert len(audit.audited) >= 15, audit.audited
    audit.assert_clean()

"""The register of reports and the outreach kit in a real browser: the register shown as a
page after a reason, the kit page with its preview, and axe-core finds no serious or critical
violation on either."""
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.models import Role
from tests.browser.test_accessibility import AxeAudit
from tests.support.desk import Desk
from tests.support.staff import sign_in_page

pytestmark = pytest.mark.browser


@pytest.fixture
def people(portal, institution, make_handler, kdf_params):
    handler = make_handler("Ana Popescu")
    coordinator = make_handler("Carmen Coordonatoare", roles=(Role.COORDINATOR,))
    desk = Desk(institution, handler, kdf_params)
    desk.receive(anonymous=False)
    desk.receive()
    db.session.commit()
    found = [SimpleNamespace(email=m.email, password=m.password) for m in (handler, coordinator)]
    db.session.close()
    return found


def test_register_and_outreach_kit_pages_are_accessible(new_page, people):
    handler, coordinator = people
    audit = AxeAudit("ro")
    page = new_page(java_script_enabled=True)
    sign_in_page(page, handler)
    page.goto("/staff/register")
    audit.check(page, "register form")
    page.fill("#reason", "Registrul anual cerut de lege.")
    page.click('button[value="page"]')
    assert page.locator("tbody tr").count() == 2
    assert "ANONIM" in page.locator("tbody").inner_text()
    assert "Ion Ionescu" in page.locator("tbody").inner_text()
    audit.check(page, "register page")

    other = new_page(java_script_enabled=True)
    sign_in_page(other, coordinator)
    other.goto("/staff/outreach/kit")
    assert other.locator("img").evaluate("img => img.naturalWidth") == 1080
    audit.check(other, "outreach kit")
    audit.assert_clean()

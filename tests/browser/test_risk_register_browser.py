"""The risk register in Debian's Chromium through gunicorn: a coordinator sees the review
prompt that substantiated cases raise (a count, never a case), adds a risk through the form
with JavaScript off, downloads the remediation report (Anexa C) and reads it back; axe-core
finds no serious or critical violation on the register's pages and the self-assessment. Any
5xx in the server's log fails the test (tests/browser/conftest.py)."""
import io
import re
from datetime import date
from types import SimpleNamespace

import docx
import pypdf
import pytest

from app.extensions import db
from app.models import Case, Category, Outcome, Regime, Role
from tests.browser.test_accessibility import AxeAudit
from tests.browser.test_stats_browser import SUBMIT, sign_in
from tests.test_stats_support import Desk, shift, utc

pytestmark = pytest.mark.browser

YEAR = date.today().year - 1


@pytest.fixture
def register_data(portal, institution, make_handler, kdf_params):
    """A coordinator, and three procurement cases closed as substantiated last year."""
    coordinator = make_handler("Carmen Coordonatoare", roles=(Role.COORDINATOR,))
    desk = Desk(institution, make_handler("Ion Operator"), kdf_params)
    references = []
    for month in (2, 6, 10):
        case = desk.receive(category=Category.PUBLIC_PROCUREMENT)
        desk.triage(case, Regime.WHISTLEBLOWER)
        desk.acknowledge(case)
        desk.close(case, Outcome.SUBSTANTIATED)
        db.session.expire_all()
        closed = db.session.get(Case, case.id)
        references.append(closed.reference)
        shift(case.id, utc(YEAR, month, 15, 10) - closed.closed_at)
    person = SimpleNamespace(email=coordinator.email, password=coordinator.password,
                             references=references)
    db.session.close()
    return person


def test_register_journey_without_javascript(new_page, register_data):
    page = new_page(java_script_enabled=False)
    sign_in(page, register_data)
    response = page.goto(f"/staff/risks?year={YEAR}")
    assert response.status == 200
    prompt = page.locator("ul.prompts li")
    assert prompt.count() == 1
    assert "3" in prompt.inner_text()
    body = page.content()
    for reference in register_data.references:
        assert reference not in body
    assert not re.search(r"SES-\d{4}-\d+", body)

    prompt.locator("a").click()
    page.wait_for_url(re.compile(r"/staff/risks/new\?area=public_procurement"))
    assert page.locator("#area").input_value() == "public_procurement"
    page.fill("#activity", "Achiziții publice – atribuirea contractelor")
    page.fill("#description", "Împărțirea contractelor sub pragul licitației")
    page.select_option("#probability", "4")
    page.select_option("#impact", "4")
    page.fill("#owner", "Compartimentul achiziții")
    page.fill("#prevention", "Verificare de către o a doua persoană")
    page.fill("#plan_measures", "1.6")
    page.fill("#identified_on", f"{YEAR}-03-01")
    page.select_option("#status", "remediated")
    page.fill("#remediation", "Procedură de control dublu aprobată")
    page.fill("#remediated_on", f"{YEAR}-09-30")
    page.click(SUBMIT)
    page.wait_for_url(re.compile(rf"/staff/risks\?year={YEAR}$"))
    row = page.locator("#risks ~ table tbody tr").first
    assert "4 × 4 = 16" in row.inner_text() and "Ridicat" in row.inner_text()
    assert "sesizări întemeiate: 3; riscuri deschise ale acestui domeniu în registru: 1" in page.locator(
        "ul.prompts li").inner_text()  # Romanian, the default; the risk is now counted

    page.goto(f"/staff/risks/remediation?year={YEAR}")
    assert "Procedură de control dublu aprobată" in page.content()
    docx_response = page.request.get(f"/staff/risks/remediation.docx?year={YEAR}")
    assert docx_response.status == 200
    document = docx.Document(io.BytesIO(docx_response.body()))
    assert any("Procedură de control dublu aprobată" in c.text for t in document.tables
               for r in t.rows for c in r.cells) or any(
        "Procedură de control dublu aprobată" in p.text for p in document.paragraphs)
    pdf_response = page.request.get(f"/staff/risks/remediation.pdf?year={YEAR}")
    assert pdf_response.status == 200
    text = " ".join(" ".join(p.extract_text() for p in
                             pypdf.PdfReader(io.BytesIO(pdf_response.body())).pages).split())
    assert "Achiziții publice – atribuirea contractelor" in text
    assert "Vulnerabilități remediate în perioadă: 1" in text
    for reference in register_data.references:
        assert reference not in text


def test_register_pages_have_no_serious_accessibility_violations(new_page, register_data):
    from playwright.sync_api import expect

    page = new_page(java_script_enabled=True)
    audit = AxeAudit("ro")
    sign_in(page, register_data)
    page.goto(f"/staff/risks?year={YEAR}")
    audit.check(page, "risk register")
    page.goto("/staff/risks/new")
    audit.check(page, "risk form")
    page.fill("#activity", "")
    page.click(SUBMIT)
    expect(page.locator("#activity-error")).to_have_count(1)
    audit.check(page, "risk form with errors")
    page.goto(f"/staff/risks/remediation?year={YEAR}")
    audit.check(page, "remediation report")
    page.goto(f"/staff/self-assessment?year={YEAR}")
    audit.check(page, "self-assessment")
    page.select_option("#answer-1", "implemented")
    page.fill("#note-1", "Cod adoptat și publicat")
    with page.expect_navigation():
        page.click('main form[method="post"] button[type="submit"]')
    expect(page.locator("p.notice")).to_have_count(1)
    assert page.locator("#answer-1").input_value() == "implemented"
    assert page.locator("#note-1").input_value() == "Cod adoptat și publicat"
    audit.assert_clean()

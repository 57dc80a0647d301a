"""The integrity-plan workspace in Debian's Chromium through real gunicorn workers, in
Romanian: the coordinator opens the plan, records a measure's status and progress and an
indicator's value, opens the annual evaluation and downloads it as DOCX, PDF and CSV, whose
text is read back; the published plan is on the public page with JavaScript off."""
import csv
import io
from datetime import date
from types import SimpleNamespace

import docx
import pypdf
import pytest

from app.extensions import db
from app.models import Role
from app.services.plan import data
from app.services.plan.loader import store_plan
from tests.support.staff import sign_in_page

from .citizen import download

pytestmark = pytest.mark.browser

YEAR = date.today().year


@pytest.fixture
def coordinator(portal, institution, make_handler):
    member = make_handler("Carmen Coordonatoare", roles=(Role.COORDINATOR,))
    store_plan(institution, data.shipped()).published = True
    db.session.commit()
    person = SimpleNamespace(email=member.email, password=member.password)
    db.session.close()
    return person


def test_coordinator_follows_the_year_and_downloads_the_evaluation(new_page, coordinator):
    page = new_page()
    sign_in_page(page, coordinator)
    page.get_by_role("link", name="Planul de integritate").first.click()
    assert page.get_by_role("heading", name="Plan de integritate al Comunei Bălțați").count()
    assert page.locator("text=Depășit").count() > 0  # 1.1's deadline, 31 martie 2022

    page.get_by_role("link", name="2.2", exact=True).last.click()
    page.select_option("#status", "implemented")
    page.click("form[action*='/status'] button[type=submit]")
    page.locator("p.notice", has_text="Stadiul este salvat.").wait_for()
    page.fill("#text", "Afiș despre portalul de sesizări la avizierul primăriei")
    page.click("form[action*='/progress'] button[type=submit]")
    page.locator("li", has_text="Afiș despre portalul de sesizări").wait_for()
    assert page.locator(".computed").count() == 3  # 2.2's three indicators, computed

    page.goto(f"/staff/plan?year={YEAR}")
    page.get_by_role("link", name="1.3", exact=True).last.click()
    page.locator("form[action*='/values'] input[name^=value_]").first.fill("12")
    page.click("form[action*='/values'] button[type=submit]")
    page.locator("p.notice", has_text="Valorile sunt salvate.").wait_for()
    assert page.locator("form[action*='/values'] input[name^=value_]").first.input_value() == "12"

    page.goto(f"/staff/plan?year={YEAR}")
    page.get_by_role("link", name=f"Evaluarea anuală {YEAR}").click()
    page.locator("text=1 din 18 măsuri implementate").wait_for()

    name, body = download(page, page.get_by_role("link", name="DOCX"))
    assert name == f"evaluare-plan-integritate-{YEAR}.docx"
    word = docx.Document(io.BytesIO(body))
    text = "\n".join(p.text for p in word.paragraphs) + "\n".join(
        cell.text for table in word.tables for row in table.rows for cell in row.cells)
    assert "Comuna Bălțați" in text and "Afiș despre portalul de sesizări" in text

    name, body = download(page, page.get_by_role("link", name="PDF"))
    pdf_text = " ".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(body)).pages)
    assert "Încurajarea cetățenilor" in " ".join(pdf_text.split())

    name, body = download(page, page.get_by_role("link", name="Indicatori (CSV)"))
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    consulted = next(row for row in rows if row["cod_masura"] == "1.3")
    assert consulted["valoare"] == "12"
    assert any(row["calculat_de_portal"] == "da" for row in rows if row["cod_masura"] == "2.2")


def test_a_verification_document_uploads_and_downloads_for_staff_and_the_public(
        new_page, coordinator):
    """The streamed downloads of the plan's documents through gunicorn: the coordinator's
    (decrypted after the request's commit) and, once marked public, the citizen's."""
    content = "Declarația privind agenda de integritate, aprobată prin dispoziție.\n".encode() * 40
    page = new_page()
    sign_in_page(page, coordinator)
    page.goto(f"/staff/plan?year={YEAR}")
    page.get_by_role("link", name="1.1", exact=True).last.click()
    page.set_input_files("#files", files=[{"name": "declarație agenda.txt",
                                          "mimeType": "text/plain", "buffer": content}])
    page.check("#public")
    page.click("form[action*='/evidence'] button[type=submit]")
    link = page.get_by_role("link", name="declarație agenda.txt")
    link.wait_for()
    name, body = download(page, link)
    assert name == "declarație agenda.txt" and body == content

    citizen = new_page(java_script_enabled=False)
    citizen.goto("/plan")
    name, body = download(citizen, citizen.get_by_role("link", name="declarație agenda.txt"))
    assert body == content


def test_the_public_plan_needs_no_javascript(new_page, coordinator):
    page = new_page(java_script_enabled=False)
    response = page.goto("/plan")
    assert response.status == 200
    assert page.get_by_role("heading", name="Plan de integritate al Comunei Bălțați").count()
    assert page.locator("#measure-4\\.3").count() == 1


def test_plan_pages_pass_axe(new_page, coordinator):
    from tests.browser.test_accessibility import AxeAudit

    page = new_page()
    audit = AxeAudit("ro")
    sign_in_page(page, coordinator)
    page.goto(f"/staff/plan?year={YEAR}")
    audit.check(page, "plan workspace")
    page.get_by_role("link", name="2.2", exact=True).last.click()
    audit.check(page, "a measure's year")
    page.goto("/staff/plan/measures/new")
    audit.check(page, "new measure")
    page.goto(f"/staff/plan/evaluation/{YEAR}")
    audit.check(page, "annual evaluation")
    page.goto("/staff/plan/open-data")
    audit.check(page, "open-data publications")
    page.goto("/plan")
    audit.check(page, "public plan")
    audit.assert_clean()

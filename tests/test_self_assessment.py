"""Self-assessment against the strategy's inventory (measure 1.8): the inventory loads from
its data file, the year's sheet saves through the real form (CSRF on), only the coordinator
keeps it, and the report reads back from its DOCX and PDF."""
import io

import docx
import pypdf
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Answer, AuditEntry, Role, SelfAssessmentAnswer
from app.services.errors import NotAuthorised
from app.services.selfassessment import answers
from app.services.selfassessment.inventory import inventories, inventory
from app.services.transaction import unit_of_work
from tests.conftest import csrf_token


@pytest.fixture
def coordinator(make_handler):
    return make_handler("Carmen Coordonatoare", roles=(Role.COORDINATOR,))


@pytest.fixture
def browser(coordinator, sign_in):
    return sign_in(coordinator)


def test_the_inventory_is_data_with_unique_codes():
    sna = inventory()
    assert sna.code in inventories()
    assert len(sna.items) >= 10
    assert len({i.code for i in sna.items}) == len(sna.items)
    assert sna.item("9").title == "Protecția avertizorului în interes public"
    words = "".join(i.title + i.hint for i in sna.items) + sna.title + sna.source
    assert "ț" in words and "ș" in words  # comma below
    assert "ţ" not in words and "ş" not in words  # never the cedilla look-alikes


def test_the_sheet_saves_and_reloads(browser):
    url = "/staff/self-assessment?year=2025"
    data = {"csrf_token": csrf_token(browser, url), "answer-1": "implemented",
            "note-1": "Cod adoptat prin dispoziția nr. 12/2022", "answer-9": "partial",
            "note-9": "", "answer-8": "not_applicable", "note-8": "", "answer-2": ""}
    response = browser.post(url, data=data)
    assert response.status_code == 302
    db.session.expire_all()
    rows = {r.item_code: r for r in db.session.scalars(select(SelfAssessmentAnswer))}
    assert {code: r.answer for code, r in rows.items()} == {
        "1": Answer.IMPLEMENTED, "9": Answer.PARTIAL, "8": Answer.NOT_APPLICABLE}
    assert rows["1"].year == 2025 and rows["1"].note.startswith("Cod adoptat")
    page = browser.get(url).get_data(as_text=True)
    assert "Cod adoptat prin dispoziția nr. 12/2022" in page
    assert '<option value="partial" selected>' in page
    assert browser.get("/staff/self-assessment?year=2024").get_data(
        as_text=True).count(" selected>") == 1  # the year only

    # The sheet is saved whole: an item sent empty (or not sent) is no longer answered. The
    # audit log keeps the count, not the notes.
    data = {"csrf_token": csrf_token(browser, url), "answer-1": "", "note-1": "",
            "answer-9": "partial", "note-9": ""}
    assert browser.post(url, data=data).status_code == 302
    db.session.expire_all()
    assert [r.item_code for r in db.session.scalars(select(SelfAssessmentAnswer))] == ["9"]
    details = list(db.session.scalars(select(AuditEntry.detail).where(
        AuditEntry.action == "self_assessment_saved")))
    assert len(details) == 2 and "Cod adoptat" not in "".join(details)


def test_a_bad_answer_or_a_note_without_answer_saves_nothing(browser):
    url = "/staff/self-assessment?year=2025"
    response = browser.post(url, data={"csrf_token": csrf_token(browser, url),
                                       "answer-1": "maybe", "answer-2": "implemented"})
    assert response.status_code == 400
    assert "Choose one of the answers offered." in response.get_data(as_text=True)
    response = browser.post(url, data={"csrf_token": csrf_token(browser, url),
                                       "answer-3": "", "note-3": "Observație fără răspuns"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose an answer for the item you wrote a note for." in page
    assert "Observație fără răspuns" in page  # what was typed is kept
    assert browser.post(url, data={"answer-1": "implemented"}).status_code == 400  # no CSRF
    db.session.expire_all()
    assert db.session.scalar(select(func.count(SelfAssessmentAnswer.id))) == 0


def test_only_the_coordinator(make_handler, sign_in):
    for roles in ((Role.HANDLER,), (Role.ADMIN,), (Role.CUSTODIAN,)):
        member = make_handler(f"Persoana {roles[0].value}", roles=roles)
        browser = sign_in(member)
        for path in ("/staff/self-assessment", "/staff/self-assessment.docx"):
            assert browser.get(path).status_code in (302, 403), (roles, path)
        with pytest.raises(NotAuthorised), unit_of_work():
            answers.save(member, inventory(), 2025,
                         {"1": answers.Given(Answer.IMPLEMENTED)})
    assert db.session.scalar(select(func.count(SelfAssessmentAnswer.id))) == 0


def test_the_report_reads_back_from_docx_and_pdf(browser, coordinator):
    with unit_of_work():
        answers.save(coordinator, inventory(), 2025, {
            "1": answers.Given(Answer.IMPLEMENTED, "Cod publicat pe site"),
            "9": answers.Given(Answer.PARTIAL, "Canal online funcțional; instruire în curs"),
            "7": answers.Given(Answer.NOT_IMPLEMENTED)})
    response = browser.get("/staff/self-assessment.docx?year=2025")
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.data))
    text = "\n".join([p.text for p in document.paragraphs] + [
        c.text for t in document.tables for row in t.rows for c in row.cells])
    pdf = browser.get("/staff/self-assessment.pdf?year=2025")
    pdf_text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    for content in (text, pdf_text):
        flat = " ".join(content.split())
        for expected in ("Raport de autoevaluare — 2025", "Comuna Bălțați",
                         "Implementată: 1", "Parțial implementată: 1", "Neimplementată: 1",
                         f"Fără răspuns: {len(inventory().items) - 3}",
                         "Protecția avertizorului în interes public",
                         "Canal online funcțional; instruire în curs", "Funcții sensibile"):
            assert expected in flat, expected

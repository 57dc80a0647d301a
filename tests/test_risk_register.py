"""The corruption-risk register through its real forms (CSRF on): scores and classes, rules
with every mistake shown and nothing saved, the coordinator alone, review prompts fed by
substantiated cases as counts only, and the remediation report (Anexa C) read back from its
DOCX and PDF."""
import io
import re
from datetime import date

import docx
import pypdf
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Case, Category, CorruptionRisk, Outcome, RiskStatus, Role
from app.services.errors import NotAuthorised
from app.services.indicators.periods import Period
from app.services.risks import prompts, register
from app.services.risks.scoring import RiskClass, risk_class, score
from app.services.transaction import unit_of_work
from tests.conftest import csrf_token
from tests.test_stats_support import Desk, utc

GOOD = {"activity": "Achiziții publice – atribuirea contractelor",
        "area": "public_procurement",
        "description": "Împărțirea contractelor ca să rămână sub pragul licitației",
        "causes": "O singură persoană pregătește și aprobă", "probability": "3",
        "impact": "5", "owner": "Compartimentul achiziții",
        "prevention": "Verificarea de către o a doua persoană", "plan_measures": "1.6; 2.2",
        "identified_on": "2025-02-10", "review_on": "2025-12-01", "status": "treated",
        "remediation": "", "remediated_on": ""}


@pytest.fixture
def coordinator(make_handler):
    return make_handler("Carmen Coordonatoare", roles=(Role.COORDINATOR,))


@pytest.fixture
def browser(coordinator, sign_in):
    return sign_in(coordinator)


def post(browser, url, data):
    return browser.post(url, data={**data, "csrf_token": csrf_token(browser, url)})


def count_risks() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(CorruptionRisk.id)))


@pytest.mark.parametrize("probability, impact, value, cls", [
    (1, 1, 1, RiskClass.LOW), (2, 2, 4, RiskClass.LOW), (1, 4, 4, RiskClass.LOW),
    (1, 5, 5, RiskClass.MEDIUM), (3, 4, 12, RiskClass.MEDIUM), (3, 5, 15, RiskClass.HIGH),
    (4, 4, 16, RiskClass.HIGH), (5, 5, 25, RiskClass.HIGH)])
def test_score_is_probability_times_impact_with_its_class(probability, impact, value, cls):
    assert score(probability, impact) == value
    assert risk_class(probability, impact) is cls


def test_the_high_band_starts_at_the_first_possible_score_above_medium():
    from app.services.risks.scoring import HIGH_MIN
    assert HIGH_MIN == 15


@pytest.mark.parametrize("probability, impact", [(0, 3), (6, 1), (3, None)])
def test_ratings_outside_one_to_five_are_refused(probability, impact):
    with pytest.raises(ValueError):
        score(probability, impact)


def test_add_and_edit_through_the_forms(browser, coordinator):
    response = post(browser, "/staff/risks/new", GOOD)
    assert response.status_code == 302, response.get_data(as_text=True)
    risk = db.session.scalar(select(CorruptionRisk))
    assert (risk.probability, risk.impact, risk.area, risk.status, risk.plan_measures) == (
        3, 5, Category.PUBLIC_PROCUREMENT, RiskStatus.TREATED, "1.6, 2.2")
    assert risk.created_by_staff_id == coordinator.id
    page = browser.get("/staff/risks").get_data(as_text=True)
    assert "Împărțirea contractelor" in page and "3 × 5 = 15" in page and "High" in page

    response = post(browser, f"/staff/risks/{risk.id}/edit",
                    {**GOOD, "status": "remediated", "remediated_on": "2025-06-30",
                     "remediation": "Procedură de control dublu aprobată"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CorruptionRisk, risk.id).status is RiskStatus.REMEDIATED
    actions = list(db.session.scalars(select(AuditEntry.detail).where(
        AuditEntry.action.like("risk_%")).order_by(AuditEntry.seq)))
    assert len(actions) == 2 and "Împărțirea" not in "".join(actions)  # ratings, no wording


def test_every_mistake_is_shown_and_nothing_is_saved(browser):
    response = post(browser, "/staff/risks/new", {
        **GOOD, "activity": "", "probability": "", "plan_measures": "măsura unu",
        "review_on": "2025-01-01", "status": "remediated"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for message in ("Name the activity or process.", "Choose a rating from 1 to 5.",
                    "measure codes separated by commas", "The review date cannot be before",
                    "Give the date the vulnerability was remedied."):
        assert message in page, message
    assert "Împărțirea contractelor ca să rămână" in page  # what was typed is kept
    assert count_risks() == 0


def test_only_the_coordinator_keeps_the_register(make_handler, sign_in, coordinator):
    handler = make_handler("Ana Popescu", roles=(Role.HANDLER,))
    admin = make_handler("Maria Admin", roles=(Role.ADMIN,))
    for member in (handler, admin):
        browser = sign_in(member)
        for url in ("/staff/risks", "/staff/risks/new", "/staff/risks/remediation",
                    "/staff/risks/remediation.pdf"):
            assert browser.get(url).status_code in (302, 403), (member.name, url)
        with pytest.raises(NotAuthorised):
            register.risks(member)
        with pytest.raises(NotAuthorised), unit_of_work():
            register.add(member, register.RiskEntry("a", "b", 1, 1, "c", date(2025, 1, 1)))
    assert count_risks() == 0


def test_another_institutions_risk_is_not_found(browser, coordinator, make_handler):
    from app.services.operations.institutions import create_institution
    other, _ = create_institution("Comuna Vânători")
    db.session.flush()
    risk = CorruptionRisk(institution_id=other.id, activity="x", description="y",
                          probability=1, impact=1, owner="z", identified_on=date(2025, 1, 1))
    db.session.add(risk)
    db.session.commit()
    assert browser.get(f"/staff/risks/{risk.id}/edit").status_code == 404
    assert register.risks(coordinator) == []


@pytest.fixture
def substantiated(institution, make_handler, kdf_params):
    """Four procurement cases closed as (partly) substantiated in 2025, one in 2024, one
    bribery case closed substantiated in 2025, and one procurement case unsubstantiated."""
    desk = Desk(institution, make_handler("Ana Popescu"), kdf_params)
    made = []
    for outcome, closed in ((Outcome.SUBSTANTIATED, utc(2025, 3, 1, 10)),
                            (Outcome.PARTIALLY_SUBSTANTIATED, utc(2025, 5, 2, 10)),
                            (Outcome.SUBSTANTIATED, utc(2025, 9, 3, 10)),
                            (Outcome.SUBSTANTIATED, utc(2025, 12, 31, 21, 30)),  # local 2025
                            (Outcome.SUBSTANTIATED, utc(2024, 6, 1, 10)),
                            (Outcome.UNSUBSTANTIATED, utc(2025, 4, 1, 10))):
        case = desk.receive(category=Category.PUBLIC_PROCUREMENT)
        made.append(_close_at(desk, case, outcome, closed))
    bribery = desk.receive(category=Category.BRIBERY)
    made.append(_close_at(desk, bribery, Outcome.SUBSTANTIATED, utc(2025, 7, 7, 10)))
    return made


def _close_at(desk, case, outcome, closed_at):
    from app.models import Regime
    desk.triage(case, Regime.WHISTLEBLOWER)
    desk.acknowledge(case)
    desk.close(case, outcome)
    db.session.expire_all()
    current = db.session.get(Case, case.id).closed_at
    from tests.test_stats_support import shift
    shift(case.id, closed_at - current)
    return db.session.get(Case, case.id)


def test_substantiated_cases_prompt_a_review_with_the_count_only(
        browser, coordinator, substantiated):
    found = {p.area: p for p in prompts.review_prompts(coordinator, Period.year(2025))}
    assert set(found) == {Category.PUBLIC_PROCUREMENT, Category.BRIBERY}
    assert found[Category.PUBLIC_PROCUREMENT].cases.text == "4"
    assert found[Category.BRIBERY].cases.text == "<3"  # one case: the small-count rule
    page = browser.get("/staff/risks?year=2025").get_data(as_text=True)
    assert "Public procurement — substantiated cases: 4;" in page
    assert "Bribery — substantiated cases: &lt;3;" in page
    assert "area=public_procurement" in page
    # Nothing that points at a case: no reference, no case's date, no text of the report.
    for case in substantiated:
        assert case.reference not in page
        assert f"/cases/{case.id}" not in page
    assert not re.search(r"SES-\d{4}-\d+", page)
    assert "Metadata test report" not in page and "Răspuns motivat" not in page
    for day in ("1 Mar 2025", "2 May 2025", "3 Sept 2025", "3 Sep 2025", "7 Jul 2025",
                "2025-03-01", "01.03.2025"):
        assert day not in page
    assert "No substantiated case was closed in 2024." not in \
        browser.get("/staff/risks?year=2024").get_data(as_text=True)


def test_no_prompt_without_substantiated_cases(browser):
    page = browser.get("/staff/risks?year=2025").get_data(as_text=True)
    assert "No substantiated case was closed in 2025." in page


def _risk(coordinator, **changes):
    values = {"activity": "Urbanism – autorizații de construire",
              "description": "Favorizarea unui solicitant în schimbul unui folos",
              "probability": 2, "impact": 4, "owner": "Arhitectul-șef",
              "identified_on": date(2025, 1, 15), "area": Category.BRIBERY,
              "prevention": "Registru public al cererilor, în ordinea depunerii",
              "plan_measures": "1.6", "status": RiskStatus.REMEDIATED,
              "remediation": "Cererile se repartizează automat",
              "remediated_on": date(2025, 8, 1), **changes}
    with unit_of_work():
        return register.add(coordinator, register.RiskEntry(**values))


def test_anexa_c_reads_back_from_docx_and_pdf(browser, coordinator):
    _risk(coordinator)
    _risk(coordinator, activity="Achiziții – recepția lucrărilor", status=RiskStatus.TREATED,
          remediation="", remediated_on=None, probability=4, impact=4)
    _risk(coordinator, activity="Închis înainte de 2025", status=RiskStatus.REMEDIATED,
          identified_on=date(2023, 1, 1), remediated_on=date(2024, 5, 1))
    page = browser.get("/staff/risks/remediation?year=2025").get_data(as_text=True)
    assert "Urbanism – autorizații de construire" in page
    assert "Închis înainte de 2025" not in page

    response = browser.get("/staff/risks/remediation.docx?year=2025")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    document = docx.Document(io.BytesIO(response.data))
    text = "\n".join([p.text for p in document.paragraphs] + [
        c.text for t in document.tables for row in t.rows for c in row.cells])
    response = browser.get("/staff/risks/remediation.pdf?year=2025")
    assert response.mimetype == "application/pdf"
    pdf = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    for content in (text, " ".join(pdf.split())):
        for expected in ("Raport privind măsurile de remediere a vulnerabilităților (Anexa C)",
                         "Comuna Bălțați", "Vulnerabilități remediate în perioadă: 1",
                         "Riscuri și vulnerabilități identificate și evaluate: 2",
                         "Urbanism – autorizații de construire", "Arhitectul-șef",
                         "Cererile se repartizează automat", "16 (ridicat)", "8 (mediu)",
                         "Măsuri din planul de integritate: 1.6", "Data remedierii: 01.08.2025",
                         "Domeniu: Mită"):
            assert expected in " ".join(content.split()), expected
        assert "Închis înainte de 2025" not in content

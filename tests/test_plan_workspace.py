"""The plan workspace through the real forms (CSRF on): the coordinator follows a year
(status, progress, typed values, evidence), the portal computes 2.2's indicators from a
report sent through the public form, the plan is edited with versions, published on the
public page, and the annual evaluation is read back from its CSV, DOCX and PDF."""
import csv
import io
import re

import docx
import pypdf
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Change,
    MeasureStatus,
    MeasureVersion,
    MeasureYear,
    OutboxMail,
    PlanEvidence,
    PlanMeasure,
    Role,
)
from app.services.localtime import local_today
from app.services.plan import data
from app.services.plan.loader import store_plan
from app.services.plan.reminders import queue_plan_reminders
from tests.conftest import CSRF_RE
from tests.test_backup import second_instance  # noqa: F401,F811  (a fixture)

YEAR = local_today().year


@pytest.fixture
def plan(app, institution):
    stored = store_plan(institution, data.shipped())
    db.session.commit()
    return stored


@pytest.fixture
def coordinator(make_handler):
    return make_handler("Ioana Coordonator", roles=(Role.COORDINATOR,))


@pytest.fixture
def browser(coordinator, sign_in, plan):
    return sign_in(coordinator)


def measure_id(code: str) -> int:
    return db.session.scalar(select(PlanMeasure.id).where(PlanMeasure.code == code))


def token(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return CSRF_RE.search(page.get_data(as_text=True)).group(1)


def test_the_workspace_lists_every_measure_and_what_is_due(browser):
    page = browser.get(f"/staff/plan?year={YEAR}").get_data(as_text=True)
    for code in ("1.1", "1.8", "2.2", "4.3"):
        assert f">{code}</a>" in page
    assert "Overdue" in page  # 1.1's "31 martie 2022", never implemented
    assert "Conducerea instituției" in page


def test_a_year_followed_and_evaluated(browser, submit, plan):
    response, receipt = submit()  # a citizen's report through the portal: 2.2 counts it
    assert receipt
    measure = measure_id("2.2")
    url = f"/staff/plan/measures/{measure}?year={YEAR}"
    page = browser.get(url).get_data(as_text=True)
    assert "Computed by the portal" in page and "reports received" in page

    response = browser.post(f"/staff/plan/measures/{measure}/status?year={YEAR}", data={
        "csrf_token": token(browser, url), "status": "implemented", "reason": ""})
    assert response.status_code == 302
    response = browser.post(f"/staff/plan/measures/{measure}/progress?year={YEAR}", data={
        "csrf_token": token(browser, url), "happened_on": local_today().isoformat(),
        "text": "Afiș despre portalul de sesizări la avizierul primăriei"})
    assert response.status_code == 302
    response = browser.post(f"/staff/plan/measures/{measure}/evidence?year={YEAR}", data={
        "csrf_token": token(browser, url),
        "files": (io.BytesIO(b"%PDF-1.4 minute"), "minuta-ședință.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]

    consult = measure_id("1.3")
    consult_url = f"/staff/plan/measures/{consult}?year={YEAR}"
    indicator = db.session.get(PlanMeasure, consult).indicators[0]
    refused = browser.post(f"/staff/plan/measures/{consult}/values?year={YEAR}", data={
        "csrf_token": token(browser, consult_url), f"value_{indicator.id}": "doisprezece"})
    assert refused.status_code == 400 and "Write a number" in refused.get_data(as_text=True)
    response = browser.post(f"/staff/plan/measures/{consult}/values?year={YEAR}", data={
        "csrf_token": token(browser, consult_url), f"value_{indicator.id}": "12"})
    assert response.status_code == 302
    response = browser.post(f"/staff/plan/measures/{consult}/status?year={YEAR}", data={
        "csrf_token": token(browser, consult_url), "status": "not_implemented", "reason": ""})
    assert response.status_code == 400  # a reason is required
    response = browser.post(f"/staff/plan/measures/{consult}/status?year={YEAR}", data={
        "csrf_token": token(browser, consult_url), "status": "not_implemented",
        "reason": "Consultarea s-a amânat"})
    assert response.status_code == 302

    page = browser.get(f"/staff/plan/evaluation/{YEAR}").get_data(as_text=True)
    assert "1 of 18 measures implemented" in page
    assert "Consultarea s-a amânat" in page and "minuta-ședință.pdf" in page

    csv_file = browser.get(f"/staff/plan/evaluation/{YEAR}.csv")
    assert csv_file.status_code == 200
    rows = list(csv.DictReader(io.StringIO(csv_file.get_data(as_text=True).lstrip("\ufeff"))))
    reports = next(row for row in rows if row["indicator"] == "Nr. sesizări transmise de cetățeni")
    assert reports["valoare"] == "1" and reports["calculat_de_portal"] == "da"
    assert "sesizări primite" in reports["sursa"] and f"31.12.{YEAR}" in reports["sursa"]
    consulted = next(row for row in rows if row["cod_masura"] == "1.3")
    assert consulted["valoare"] == "12" and consulted["calculat_de_portal"] == "nu"
    assert consulted["stadiu"] == "Neimplementată"

    word = docx.Document(io.BytesIO(browser.get(f"/staff/plan/evaluation/{YEAR}.docx").data))
    text = "\n".join(p.text for p in word.paragraphs) + "\n".join(
        cell.text for table in word.tables for row in table.rows for cell in row.cells)
    assert f"Raport de evaluare a implementării planului de integritate — {YEAR}" in text
    assert "Încurajarea cetățenilor de a sesiza" in text and "Implementată" in text
    assert "1 din 18" in text

    pdf = pypdf.PdfReader(io.BytesIO(browser.get(f"/staff/plan/evaluation/{YEAR}.pdf").data))
    pdf_text = " ".join((page.extract_text() or "") for page in pdf.pages)
    assert "Bălțați" in pdf_text and "1 din 18" in " ".join(pdf_text.split())


def test_evidence_is_encrypted_and_downloads_back(browser, plan, upload_folder):
    measure = measure_id("1.1")
    url = f"/staff/plan/measures/{measure}?year={YEAR}"
    content = b"Declaratia privind agenda de integritate " * 50
    browser.post(f"/staff/plan/measures/{measure}/evidence?year={YEAR}", data={
        "csrf_token": token(browser, url),
        "files": (io.BytesIO(content), "declarație-agenda.txt")},
        content_type="multipart/form-data")
    row = db.session.scalars(select(PlanEvidence)).one()
    assert not row.public
    with open(f"{upload_folder}/{row.storage_name}", "rb") as stored:
        on_disk = stored.read()
    assert content[:40] not in on_disk and "declarație".encode() not in row.meta
    download = browser.get(f"/staff/plan/evidence/{row.id}")
    assert download.status_code == 200 and download.data == content
    # Not public: the public page neither lists nor serves it.
    assert browser.get(f"/plan/documents/{row.id}").status_code == 404


    # Made public, the coordinator is sent back to the document's measure and year, whatever
    # Referer the request carries (no redirect to another site).
    answer = browser.post(f"/staff/plan/evidence/{row.id}/visibility",
                          data={"csrf_token": token(browser, url), "public": "y"},
                          headers={"Referer": "https://elsewhere.example/phish"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == url
    db.session.refresh(row)
    assert row.public
    # Still not served while the plan itself is unpublished.
    assert browser.get(f"/plan/documents/{row.id}").status_code == 404


def test_editing_keeps_versions_and_the_evaluation_lists_them(browser, plan):
    measure = measure_id("1.3")
    edit = f"/staff/plan/measures/{measure}/edit"
    page = browser.get(edit).get_data(as_text=True)
    assert "[count] Nr. de angajați consultați" in page
    form = {"csrf_token": CSRF_RE.search(page).group(1), "objective_number": "1",
            "code": "1.3", "text": "Consultarea angajaților și a cetățenilor",
            "indicators": "[count] Nr. de angajați consultați cu privire la elaborarea planului "
                          "de integritate\n[count] Nr. cetățeni consultați",
            "risks": "Caracter formal al consultării", "sources": "Minută",
            "deadline": "Anual", "responsible": "Conducerea instituției", "budget": ""}
    assert browser.post(edit, data=form).status_code == 302
    new = browser.post("/staff/plan/measures/new", data={
        **form, "csrf_token": token(browser, "/staff/plan/measures/new"), "code": "4.4",
        "objective_number": "4", "text": "Instruirea anuală privind avertizarea în interes public",
        "indicators": "[yes_no] Instruire realizată"})
    assert new.status_code == 302
    versions = db.session.scalars(select(MeasureVersion).where(
        MeasureVersion.measure_id == measure).order_by(MeasureVersion.number)).all()
    assert [version.change for version in versions] == [Change.LOADED, Change.REVISED]
    assert versions[1].changes["text"]["old"].startswith("Consultarea angajaților în")
    assert versions[1].changed_by_staff_id is not None
    retire = measure_id("2.4")
    assert browser.post(f"/staff/plan/measures/{retire}/retire", data={
        "csrf_token": token(browser, f"/staff/plan/measures/{retire}")}).status_code == 302
    page = browser.get(f"/staff/plan/evaluation/{YEAR}").get_data(as_text=True)
    assert "1.3 (revised)" in page and "4.4 (introduced)" in page and "2.4 (retired)" in page
    assert "0 of 18 measures implemented" in page  # 18 - 2.4 + 4.4


def test_the_public_page_shows_the_published_plan(browser, client, plan):
    assert "not published" in client.get("/plan").get_data(as_text=True)
    workspace = "/staff/plan"
    assert browser.post("/staff/plan/publication", data={
        "csrf_token": token(browser, workspace), "published": "y",
        "publish_status": "y"}).status_code == 302
    page = client.get("/plan").get_data(as_text=True)
    assert "Adoptarea și distribuția în cadrul instituției" in page
    assert "<script" not in page
    assert "Status</dt><dd>Not started" in page


def test_reminders_are_content_free_and_queued_once(app, plan, coordinator):
    db.session.add(MeasureYear(measure_id=measure_id("1.7"), year=YEAR - 1,
                               status=MeasureStatus.IMPLEMENTED))
    db.session.commit()
    queued = queue_plan_reminders()
    assert queued > 0
    assert queue_plan_reminders() == 0
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.kind == "plan_due")).all()
    assert {mail.recipient for mail in mails} == {coordinator.email}
    for mail in mails:
        assert "/staff/plan" in mail.body
        text = (mail.subject + mail.body).replace(app.config["PUBLIC_URL"], "")
        assert not re.search(r"\b\d\.\d\b", text)  # no measure code
        assert "Conducerea" not in mail.body and "Adoptarea" not in mail.body
    assert "31 martie 2022" in " ".join(mail.body for mail in mails)  # 1.1, never met


def test_the_risk_register_feeds_measures_1_5_1_6_and_the_new_risks(browser, coordinator):
    from app.services.plan import evaluation
    from app.services.risks import register

    risk = register.add(coordinator, register.RiskEntry(
        activity="Achiziții publice", description="Specificații tehnice restrictive",
        probability=3, impact=4, owner="Compartimentul achiziții",
        identified_on=local_today()))
    db.session.commit()
    evaluated = evaluation.build(coordinator, YEAR)
    assert evaluated.new_risks == [
        "Achiziții publice: Specificații tehnice restrictive (probabilitate 3 × impact 4)"]
    identified = next(m for m in evaluated.measures if m.code == "1.5").indicators[0]
    assert identified.computed and identified.value == "1"
    remedied = next(m for m in evaluated.measures if m.code == "1.6").indicators[1]
    assert remedied.computed and remedied.value == "0"
    assert risk.id


def test_measure_2_1_counts_the_outreach_logs_activities_and_their_feedback(browser,
                                                                           coordinator):
    from app.models import OutreachKind, OutreachPlatform
    from app.services.indicators import outreach
    from app.services.plan import evaluation

    form_page = browser.get("/staff/outreach/new").get_data(as_text=True)
    assert 'name="feedback"' in form_page
    response = browser.post("/staff/outreach/new", data={
        "csrf_token": CSRF_RE.search(form_page).group(1), "kind": "activity",
        "platform": "public_meeting", "published_on": local_today().isoformat(),
        "title": "Întâlnire cu cetățenii despre drepturile lor", "participants": "23",
        "feedback": "Utilă; ar vrea o a doua sesiune"})
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    with pytest.raises(outreach.OutreachRefused):  # a post has no participants' feedback
        outreach.create(coordinator, outreach.OutreachEntry(
            OutreachKind.POST, OutreachPlatform.FACEBOOK, local_today(), "Postare",
            feedback="?"))
    measure = next(m for m in evaluation.build(coordinator, YEAR).measures if m.code == "2.1")
    values = {item.label: item for item in measure.indicators}
    assert values["Nr. programe derulate/ activități de informare"].value == "1"
    assert values["Nr. participanți"].value == "23"
    feedback = values["Feedback-ul participanților"]
    assert feedback.computed and feedback.value == "Utilă; ar vrea o a doua sesiune"
    assert not values["Nr. module de curs derulate"].computed


def test_the_plans_documents_are_in_the_backup(app, institution, coordinator, plan,
                                               second_instance, tmp_path):  # noqa: F811
    from werkzeug.datastructures import FileStorage

    from app.models import StaffAccount, StaffMember
    from app.services.plan import evidence as plan_evidence
    from tests.test_backup import invoke, restore

    content = b"Proces-verbal de aprobare a planului " * 30
    plan_evidence.add_evidence(coordinator, measure_id("1.4"), YEAR, [
        FileStorage(io.BytesIO(content), filename="proces-verbal.txt")])
    db.session.commit()
    email, code = coordinator.email, institution.recovery_code
    path = tmp_path / "nightly.avz"
    assert invoke(app, "backup", "create", str(path)).exit_code == 0
    target_app, _ = second_instance
    result = restore(target_app, path, code)
    assert result.exit_code == 0, result.output
    with target_app.app_context():
        member = db.session.scalar(select(StaffMember).join(StaffMember.account).where(StaffAccount.email == email))
        row = db.session.scalars(select(PlanEvidence)).one()
        chunks, name, size = plan_evidence.download(member, row.id)
        assert name == "proces-verbal.txt" and b"".join(chunks) == content
        db.session.remove()


def test_the_audit_log_tells_the_plans_changes_in_words(app):
    from flask_babel import force_locale

    from app.labels import event_sentence

    with force_locale("ro"):
        said = event_sentence("plan_status_set", '{"year": 2026, "new": "implemented"}')
        assert said == "A stabilit stadiul unei măsuri pentru 2026: Implementată."
        assert event_sentence("plan_measure_revised", '{"code": "1.3", "fields": ["text"]}') \
            == "A revizuit măsura 1.3: text."


def test_the_coordinator_starts_a_plan_from_the_model_a_file_or_nothing(coordinator, sign_in):
    from app.models import Plan

    browser = sign_in(coordinator)
    assert "Start the plan" in browser.get("/staff/plan").get_data(as_text=True)
    empty = browser.post("/staff/plan/start", data={
        "csrf_token": token(browser, "/staff/plan/start"), "source": "empty", "title": ""})
    assert empty.status_code == 400 and "Give the plan" in empty.get_data(as_text=True)
    assert browser.post("/staff/plan/start", data={
        "csrf_token": token(browser, "/staff/plan/start"), "source": "empty",
        "title": "Plan de integritate 2026–2030"}).status_code == 302
    assert db.session.scalars(select(Plan)).one().objectives == []
    csv_text = ("Obiectiv;Cod;Măsuri;Indicatori de performanță;Riscuri;Surse de verificare;"
                "Termen de realizare;Responsabili;Buget\n"
                "1: Transparență;1.1;Publicarea bugetului;[yes_no] Buget publicat;;;Anual;"
                "Conducerea instituției;\n")
    imported = browser.post("/staff/plan/start", data={
        "csrf_token": token(browser, "/staff/plan/start"), "source": "import", "title": "",
        "upload": (io.BytesIO(csv_text.encode()), "strategia-noua.csv")},
        content_type="multipart/form-data")
    assert imported.status_code == 302, imported.get_data(as_text=True)[:500]
    broken = browser.post("/staff/plan/start", data={
        "csrf_token": token(browser, "/staff/plan/start"), "source": "import", "title": "",
        "upload": (io.BytesIO(b"objectives: [1]"), "plan.yaml")},
        content_type="multipart/form-data")
    assert broken.status_code == 400
    assert browser.post("/staff/plan/start", data={
        "csrf_token": token(browser, "/staff/plan/start"), "source": "shipped",
        "title": ""}).status_code == 302
    plans = db.session.scalars(select(Plan).order_by(Plan.id)).all()
    assert [plan.title for plan in plans] == ["Plan de integritate 2026–2030", "strategia-noua",
                                              "Plan de integritate al Comunei Bălțați"]
    page = browser.get("/staff/plan").get_data(as_text=True)
    assert "Plan de integritate al Comunei Bălțați" in page and ">4.3</a>" in page

"""Defects a first real user hit on the report form, the inbox and the case page, through the
real forms (CSRF on, real database, real crypto) and the services behind them."""
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.extensions import db
from app.labels import event_sentence
from app.models import Attachment, Case, KeyKind, KeyWrap, OutboxMail, Role
from app.models.message import HeldUpload
from app.services import localtime
from app.services.access import keys as key_access
from app.services.access.opened import open_case
from app.services.casework import workflow
from app.services.errors import DomainError
from app.services.intake import submit as intake
from app.services.intake.submit import NobodyCouldRead
from app.services.transaction import unit_of_work
from tests.conftest import CSRF_RE, RECEIPT_RE, csrf_token, report_fields
from tests.support.staff import signed_in_access
from tests.test_backoffice_flow import post_form

EXCLUDE_BOX = re.compile(r'<input[^>]*name="excluded"[^>]*value="(\d+)"')


def case_count() -> int:
    return db.session.scalar(select(func.count(Case.id)))


# --- 1. a report nobody can open ----------------------------------------------------------------

def test_a_single_designated_person_cannot_be_excluded(client, submit, make_handler):
    only = make_handler("Ana Popescu")
    page = client.get("/report").get_data(as_text=True)
    assert not EXCLUDE_BOX.search(page)
    assert 'id="single-handler"' in page and "National Integrity Agency (ANI)" in page
    assert "www.integritate.eu" in page

    # A forged choice is refused by the service too: nothing is stored, nobody is left out.
    response, receipt = submit(excluded=[str(only.id)])
    assert receipt is None and case_count() == 0
    response, receipt = submit()
    assert receipt and case_count() == 1


def test_excluding_every_designated_person_is_refused(client, submit, make_handler):
    first, second = make_handler("Ana Popescu"), make_handler("Bogdan Ionescu")
    page = client.get("/report").get_data(as_text=True)
    assert set(EXCLUDE_BOX.findall(page)) == {str(first.id), str(second.id)}
    assert "At least one must remain" in page

    response, receipt = submit(excluded=[str(first.id), str(second.id)])
    assert response.status_code == 400 and receipt is None and case_count() == 0
    assert "You cannot exclude every designated person" in response.get_data(as_text=True)

    response, receipt = submit(excluded=[str(first.id)])
    assert receipt
    case = db.session.scalar(select(Case))
    holders = {w.staff_id for w in db.session.scalars(
        select(KeyWrap).where(KeyWrap.case_id == case.id, KeyWrap.kind == KeyKind.CASE))}
    assert holders == {second.id, None}  # the other handler and the recovery key


def test_service_refuses_a_report_sealed_to_nobody(institution, make_handler, kdf_params):
    only = make_handler()
    report = intake.Report(category=intake.Category.BRIBERY, what_happened="x",
                           work_context=False, language="ro", excluded_staff_ids={only.id})
    with pytest.raises(NobodyCouldRead):
        with unit_of_work():
            intake.submit_report(institution, report, [], kdf_params)
    assert case_count() == 0


def test_reports_no_active_handler_can_open_are_announced(submit, make_handler, sign_in):
    first, second = make_handler("Ana Popescu"), make_handler("Bogdan Ionescu")
    coordinator = make_handler("Carmen Coordonator", roles=(Role.COORDINATOR,))
    submit(excluded=[str(first.id)])  # sealed to the second handler only
    assert key_access.unreadable_case_count(first.institution_id) == 0
    staff = sign_in(first)
    assert "no one can open" not in staff.get("/staff/cases").get_data(as_text=True)

    second.active = False  # later deactivated by the admin
    db.session.commit()
    assert key_access.unreadable_case_count(first.institution_id) == 1
    inbox = staff.get("/staff/cases").get_data(as_text=True)
    assert "1 report no one can open: use the recovery code." in inbox
    dashboard = sign_in(coordinator).get("/staff/stats")
    assert dashboard.status_code == 200
    assert "1 report no one can open: use the recovery code." in dashboard.get_data(
        as_text=True)


# --- 2. replies go unseen -----------------------------------------------------------------------

def reporter_writes(client, follow_up, receipt, text):
    follow_up(receipt)
    token = csrf_token(client, "/follow-up/case")
    response = client.post("/follow-up/message", data={"body": text, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_a_reporter_reply_is_marked_unread_and_mailed(client, submit, follow_up,
                                                      make_handler, sign_in):
    handler = make_handler("Ana Popescu")
    _, receipt = submit()
    case = db.session.scalar(select(Case))
    staff = sign_in(handler)
    page_url = f"/staff/cases/{case.id}"
    staff.get(page_url)  # read once
    assert "New message from the reporter" not in staff.get("/staff/cases").get_data(
        as_text=True)
    # Even on a closed case.
    post_form(staff, f"{page_url}/triage", page_url,
              {"triage-regime": "whistleblower", "triage-category": "bribery"})
    assert post_form(staff, f"{page_url}/close", page_url, {
        "close-outcome": "unsubstantiated", "close-message": "Nu s-a confirmat."}
    ).status_code == 302

    reporter_writes(client, follow_up, receipt, "Mai am un document secret-reply-text")
    inbox = staff.get("/staff/cases").get_data(as_text=True)
    assert "New message from the reporter" in inbox
    mails = db.session.scalars(select(OutboxMail).where(
        OutboxMail.kind == "reporter_message")).all()
    assert [m.recipient for m in mails] == [handler.email]
    assert case.reference in mails[0].subject
    assert "secret-reply-text" not in mails[0].body + mails[0].subject

    # A second message before the handler looks: still one mail for this unread case.
    reporter_writes(client, follow_up, receipt, "Și încă ceva")
    assert db.session.scalar(select(func.count(OutboxMail.id)).where(
        OutboxMail.kind == "reporter_message")) == 1

    page = staff.get(page_url).get_data(as_text=True)
    assert 'id="unread-reporter"' in page and page.count('class="reporter unread"') == 2
    assert "New message from the reporter" not in staff.get("/staff/cases").get_data(
        as_text=True)
    assert 'id="unread-reporter"' not in staff.get(page_url).get_data(as_text=True)

    # Read: the next message mails again.
    reporter_writes(client, follow_up, receipt, "Ultimul mesaj")
    assert db.session.scalar(select(func.count(OutboxMail.id)).where(
        OutboxMail.kind == "reporter_message")) == 2


# --- 3. files lost after a form error -----------------------------------------------------------

def correct(client, refused_page: str, files=None, **overrides):
    """Send the re-shown form again, as a browser does: no new GET of /report."""
    data = report_fields(**overrides)
    data["csrf_token"] = CSRF_RE.search(refused_page).group(1)
    if files:
        data["evidence"] = files
    response = client.post("/report", data=data, content_type="multipart/form-data")
    match = RECEIPT_RE.search(response.get_data(as_text=True))
    return response, (match.group(1).replace(" ", "") if match else None)


def held_rows() -> list[HeldUpload]:
    db.session.expire_all()
    return list(db.session.scalars(select(HeldUpload)))


def test_a_refused_report_keeps_the_files_encrypted(app, client, submit, make_handler,
                                                    sign_in):
    handler = make_handler()
    body = b"%PDF-1.4 held-evidence-marker " + bytes(range(256)) * 40
    response, receipt = submit(what_happened="",
                               files=[(io.BytesIO(body), "contract.pdf")])
    assert response.status_code == 400 and receipt is None
    page = response.get_data(as_text=True)
    held = page[page.index('id="held-files"'):page.index('id="evidence"')]
    assert "contract.pdf" in held and "You need not attach them again" in held
    cookie = response.headers["Set-Cookie"]
    assert "avertizor_held=" in cookie and "HttpOnly" in cookie and "Path=/report" in cookie
    # Stored: ciphertext only, readable with the key in the reporter's cookie alone; and no
    # file in the upload folder for a refused form.
    [stored] = held_rows()
    assert b"held-evidence-marker" not in stored.sealed and b"contract" not in stored.sealed
    assert list(Path(app.config["UPLOAD_FOLDER"]).iterdir()) == []

    # The corrected form is sent without choosing the file again: the case has it.
    response, receipt = correct(client, page, keep_held="y")
    assert receipt and held_rows() == []
    case = db.session.scalar(select(Case))
    staff = sign_in(handler)
    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    link = re.search(r'href="(/staff/cases/\d+/files/\d+)"', page).group(1)
    assert staff.get(link).data == body


def test_held_files_can_be_removed_and_a_fresh_form_forgets_them(app, client, submit,
                                                                 make_handler):
    make_handler()
    response, _ = submit(what_happened="", files=[(io.BytesIO(b"%PDF-1.4 a"), "a.pdf")])
    assert len(held_rows()) == 1
    # Unticked "send the kept files": they are forgotten.
    response, receipt = correct(client, response.get_data(as_text=True), what_happened="")
    assert "a.pdf" not in response.get_data(as_text=True) and held_rows() == []

    submit(what_happened="", files=[(io.BytesIO(b"%PDF-1.4 b"), "b.pdf")])
    client.get("/report")  # starting again: nothing is attached silently
    assert held_rows() == []
    response, receipt = submit()
    assert receipt
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_refused_file_must_be_attached_again(submit, make_handler):
    make_handler()
    response, receipt = submit(what_happened="",
                               files=[(io.BytesIO(b"MZ"), "program.exe")])
    assert response.status_code == 400 and receipt is None
    page = response.get_data(as_text=True)
    field = page[page.index('id="evidence"') - 1500:page.index('id="evidence"') + 200]
    assert "please attach them again" in field and "program.exe" in field
    assert "is not a kind of file we accept" in field


def test_the_files_message_is_in_romanian(app, institution, make_handler):
    make_handler()
    browser = app.test_client()
    browser.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)  # the Romanian default
    data = {"category": "bribery", "what_happened": "", "work_context": "no",
            "identity_choice": "anonymous", "consent": "y",
            "csrf_token": csrf_token(browser, "/report"),
            "evidence": [(io.BytesIO(b"MZ"), "program.exe")]}
    page = browser.post("/report", data=data, content_type="multipart/form-data").get_data(
        as_text=True)
    assert "atașați-le din nou" in page and "program.exe" in page


# --- 4. contact details typed beside "anonymous" ------------------------------------------------

def test_contact_details_beside_anonymous_are_not_dropped_silently(submit, make_handler):
    make_handler()
    response, receipt = submit(identity_choice="anonymous", name="Ion Vasile",
                               email="ion@example.ro")
    assert response.status_code == 400 and receipt is None and case_count() == 0
    page = response.get_data(as_text=True)
    assert "you typed contact details" in page and 'name="contact_choice"' in page
    assert 'value="ion@example.ro"' in page and 'value="Ion Vasile"' in page

    response, receipt = submit(identity_choice="anonymous", name="Ion Vasile",
                               email="ion@example.ro", contact_choice="identified")
    assert receipt
    case = db.session.scalar(select(Case))
    assert not case.anonymous and case.identity is not None and case.notify is not None

    response, receipt = submit(identity_choice="anonymous", email="ion@example.ro",
                               contact_choice="discard")
    assert receipt
    second = db.session.scalar(select(Case).order_by(Case.id.desc()))
    assert second.anonymous and second.identity is None and second.notify is None


# --- 5. history and audit as sentences ----------------------------------------------------------

def test_history_reads_as_sentences_in_both_languages(app, submit, make_handler, sign_in):
    handler = make_handler("Ana Popescu")
    submit()
    case = db.session.scalar(select(Case))
    staff = sign_in(handler)
    page_url = f"/staff/cases/{case.id}"
    post_form(staff, f"{page_url}/triage", page_url,
              {"triage-regime": "whistleblower", "triage-category": "bribery"})
    post_form(staff, f"{page_url}/assess", page_url, {})
    post_form(staff, f"{page_url}/close", page_url,
              {"close-outcome": "substantiated", "close-message": "Confirmat."})
    page = staff.get(page_url).get_data(as_text=True)
    history = page[page.index('id="history-title"'):]
    assert "Closed the case with the outcome “Substantiated”." in history
    assert "Moved the case from “Received” to “Assessment”." in history
    assert "Opened the case." in history and "The report arrived through This portal." \
        in history
    for raw in ("case_opened", "status_changed", "{", "&#34;", "&quot;"):
        assert raw not in history, raw

    romanian = staff.get(page_url + "?lang=ro").get_data(as_text=True)
    assert "A închis cazul cu soluția" in romanian[romanian.index('id="history-title"'):]


def test_every_recorded_action_has_a_sentence(app):
    detail = '{"field": "persons_involved", "occurrences": 2, "reason": "nume irelevant"}'
    with force_locale("en"):
        assert event_sentence("report_redacted", detail) == (
            "Deleted irrelevant personal data from the report (Persons involved): 2 passages "
            "replaced by “[redacted]”. Reason: nume irelevant")
        assert event_sentence("closed", '{"from": "investigation", "outcome": "dismissed"}') \
            .startswith("Closed the case with the outcome “Dismissed")
        assert "nume" not in event_sentence("report_redacted", detail, with_reason=False)
    with force_locale("ro"):
        assert event_sentence("case_opened", "") == "A deschis cazul."
    import pathlib
    recorded = set()
    for path in pathlib.Path(app.root_path).rglob("*.py"):
        text = path.read_text()
        recorded |= set(re.findall(r'(?:audit\.record|_record)\(\s*"([a-z_]+)"', text))
        recorded |= set(re.findall(r'_record\(access, case, "([a-z_]+)"', text))
    recorded |= {"identity_request_approved", "identity_request_denied",
                 "access_granted_by_recovery", "case_purged", "received", "reporter_message"}
    recorded.discard("identity_request_")
    with force_locale("en"):
        unnamed = [a for a in recorded if event_sentence(a, "").startswith("Other action")]
    assert not unnamed


# --- 6. close, triage and revoke forms ----------------------------------------------------------

def test_close_preselects_no_outcome_and_triage_remembers(submit, make_handler, sign_in):
    handler, colleague = make_handler("Ana Popescu"), make_handler("Bogdan Ionescu")
    submit()
    case = db.session.scalar(select(Case))
    staff = sign_in(handler)
    page_url = f"/staff/cases/{case.id}"
    page = staff.get(page_url).get_data(as_text=True)
    close_select = page[page.index('name="close-outcome"'):]
    close_select = close_select[:close_select.index("</select>")]
    assert "selected" not in close_select and '<option value="">' in close_select

    revoke = page[page.index('name="revoke-member"'):]
    revoke = revoke[:revoke.index("</select>")]
    assert f'value="{colleague.id}"' in revoke and f'value="{handler.id}"' not in revoke

    response = post_form(staff, f"{page_url}/triage", page_url, {
        "triage-regime": "petition", "triage-category": "bribery",
        "triage-examine_anonymous": "y"})
    assert response.status_code == 302
    page = staff.get(page_url).get_data(as_text=True)
    box = re.search(r'<input[^>]*name="triage-examine_anonymous"[^>]*>', page).group(0)
    assert "checked" in box

    response = post_form(staff, f"{page_url}/close", page_url,
                         {"close-outcome": "", "close-message": "Răspuns."})
    assert response.status_code == 400
    assert "Choose the outcome of the examination." in response.get_data(as_text=True)


# --- 7. Romania's date --------------------------------------------------------------------------

NEW_YEAR_NIGHT = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 01:30 on 1 January in Romania


def test_romanian_today_is_not_the_server_zone():
    assert localtime.local_today(NEW_YEAR_NIGHT) == date(2027, 1, 1)
    assert intake.manual_received_at(date(2027, 1, 1), now=NEW_YEAR_NIGHT) == NEW_YEAR_NIGHT
    earlier = intake.manual_received_at(date(2026, 12, 30), now=NEW_YEAR_NIGHT)
    assert earlier == datetime(2026, 12, 30, 10, 0, tzinfo=UTC)  # noon in Bucharest
    with pytest.raises(DomainError):
        intake.manual_received_at(date(2027, 1, 2), now=NEW_YEAR_NIGHT)


def test_forwarding_counts_days_in_romania(institution, make_handler, kdf_params, submit,
                                           monkeypatch):
    handler = make_handler()
    submit()
    case = db.session.scalar(select(Case))
    case.received_at = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)  # 1 January, 01:00 local
    db.session.commit()
    access = signed_in_access(institution, handler, kdf_params)
    monkeypatch.setattr(localtime, "utcnow", lambda: NEW_YEAR_NIGHT)
    with unit_of_work():
        workflow.forward(open_case(access, case.id), "DNA", date(2027, 1, 1), "Transmis.")
    db.session.expire_all()
    forwarded = db.session.get(Case, case.id)
    assert forwarded.forwarded_to == "DNA"
    assert forwarded.forwarded_at <= datetime.now(UTC)


def test_held_files_expire(app, client, submit, make_handler):
    from datetime import timedelta

    from app.services.intake import held_files

    make_handler()
    response, _ = submit(what_happened="", files=[(io.BytesIO(b"%PDF-1.4 c"), "c.pdf")])
    [row] = held_rows()
    row.created_at = datetime.now(UTC) - timedelta(minutes=held_files.HOLD_MINUTES + 1)
    db.session.commit()
    response, receipt = correct(client, response.get_data(as_text=True), keep_held="y")
    assert receipt and held_rows() == []
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0

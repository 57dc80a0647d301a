"""A meeting on request: asked on the report form or at follow-up, kept encrypted, marked in
the inbox, answered in the thread, its minutes recorded as the oral-report transcript, read and
confirmed ("signed") by the reporter. Through the Flask client, and once through gunicorn."""
import json
import re

import pytest
from sqlalchemy import select

from app.crypto import envelope
from app.extensions import db
from app.models import Case, CaseEvent, EventKind, Message
from tests.conftest import CSRF_RE, RECEIPT_RE, csrf_token, report_fields
from tests.support.database import every_stored_value
from tests.support.http import HttpClient
from tests.support.server import gunicorn_server
from tests.support.server_log import assert_no_server_errors
from tests.support.staff import sign_in_http

DAYS = "Marți după ora 16, la Căminul Cultural"
MINUTES = "Petentul a relatat că funcționarul i-a cerut 500 de lei pentru autorizație."
MARKER = "Meeting requested"


def _post(client, url, page_url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page_url)})


def _events(case_id: int, kind: EventKind) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case_id, CaseEvent.kind == kind)))


def _case() -> Case:
    db.session.expire_all()
    return db.session.scalar(select(Case).order_by(Case.id.desc()))


def test_asked_on_the_form_marked_in_the_inbox_minutes_read_and_signed(
        client, submit, follow_up, make_handler, sign_in, database_url):
    handler = make_handler()
    response, receipt = submit(meeting_wanted="y", meeting_way="in_person", meeting_days=DAYS)
    assert receipt, response.get_data(as_text=True)
    case = _case()
    assert case.meeting_requested is True and case.reporter_signed is None
    # The days and the way are only in the sealed content: nowhere in clear in the database.
    assert DAYS.encode() not in every_stored_value(database_url)
    assert "Căminul".encode() not in every_stored_value(database_url)
    [asked] = _events(case.id, EventKind.MEETING_REQUESTED)
    assert asked.detail is None

    staff = sign_in(handler)
    inbox = staff.get("/staff/cases").get_data(as_text=True)
    assert case.reference in inbox and MARKER in inbox
    page_url = f"/staff/cases/{case.id}"
    page = staff.get(page_url).get_data(as_text=True)
    assert "The reporter asked to meet or talk." in page and DAYS in page and "In person" in page

    # A time is proposed through the message thread, then the minutes are written.
    assert _post(staff, f"{page_url}/message", page_url,
                 {"msg-body": "Vă propun joi, 10 decembrie, ora 17."}).status_code == 302
    assert _post(staff, f"{page_url}/minutes", page_url,
                 {"minutes-minutes": MINUTES}).status_code == 302
    case = _case()
    assert case.meeting_requested is False and case.reporter_signed is False
    assert MARKER not in staff.get("/staff/cases").get_data(as_text=True)
    assert MINUTES.encode() not in every_stored_value(database_url)
    [recorded] = _events(case.id, EventKind.MINUTES_RECORDED)
    assert recorded.actor_staff_id == handler.id and recorded.detail is None

    # The reporter reads the proposal and the minutes, and confirms them with one button.
    assert follow_up(receipt).status_code == 302
    page = client.get("/follow-up/case").get_data(as_text=True)
    assert "Vă propun joi" in page and MINUTES in page and 'id="sign-minutes"' in page
    signed = _post(client, "/follow-up/minutes/sign", "/follow-up/case", {})
    assert signed.status_code == 302 and signed.headers["Location"].endswith("sent=signed")
    case = _case()
    assert case.reporter_signed is True
    [confirmation] = _events(case.id, EventKind.MINUTES_SIGNED)
    assert confirmation.actor_staff_id is None and confirmation.detail is None
    page = client.get("/follow-up/case").get_data(as_text=True)
    assert 'id="minutes-signed"' in page and 'id="sign-minutes"' not in page
    # Signing twice records nothing more.
    _post(client, "/follow-up/minutes/sign", "/follow-up/case", {})
    assert len(_events(case.id, EventKind.MINUTES_SIGNED)) == 1

    # The handler's page shows the confirmation in the facts and the history.
    page = staff.get(page_url).get_data(as_text=True)
    assert "The reporter confirmed (signed) the minutes." in page


def test_a_correction_asked_by_message_needs_a_new_confirmation(
        client, submit, follow_up, make_handler, sign_in):
    handler = make_handler()
    _, receipt = submit(meeting_wanted="y", meeting_way="phone")
    case = _case()
    staff = sign_in(handler)
    page_url = f"/staff/cases/{case.id}"
    _post(staff, f"{page_url}/minutes", page_url, {"minutes-minutes": "Suma era 300 de lei."})
    follow_up(receipt)
    client.post("/follow-up/message", data={
        "body": "Suma a fost 500 de lei, nu 300.",
        "csrf_token": csrf_token(client, "/follow-up/case")})
    page = staff.get(page_url).get_data(as_text=True)
    assert "Suma a fost 500 de lei" in page
    assert "Suma era 300 de lei." in page  # the minutes are proposed for editing
    _post(staff, f"{page_url}/minutes", page_url, {"minutes-minutes": "Suma era 500 de lei."})
    _post(client, "/follow-up/minutes/sign", "/follow-up/case", {})
    assert _case().reporter_signed is True
    _post(staff, f"{page_url}/minutes", page_url, {"minutes-minutes": "Suma era 500 de lei!"})
    assert _case().reporter_signed is False  # changed after signing: to be confirmed again
    assert "Suma era 500 de lei!" in client.get("/follow-up/case").get_data(as_text=True)


def test_asked_at_follow_up_goes_in_an_encrypted_message(
        client, submit, follow_up, make_handler, sign_in, database_url):
    handler = make_handler()
    _, receipt = submit()
    case = _case()
    assert case.meeting_requested is False
    follow_up(receipt)
    sent = _post(client, "/follow-up/meeting", "/follow-up/case",
                 {"way": "phone", "days": DAYS})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("sent=meeting")
    case = _case()
    assert case.meeting_requested is True and case.reporter_message_at is not None
    assert db.session.scalar(select(Message).where(Message.case_id == case.id))
    assert DAYS.encode() not in every_stored_value(database_url)
    page = client.get("/follow-up/case").get_data(as_text=True)
    assert DAYS in page and "You asked to meet or talk" in page

    staff = sign_in(handler)
    inbox = staff.get("/staff/cases").get_data(as_text=True)
    assert MARKER in inbox and "New message from the reporter" in inbox
    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert DAYS in page and "By phone" in page


def test_a_meeting_without_a_way_is_refused_with_the_reason(client, submit, make_handler):
    make_handler()
    response, receipt = submit(meeting_wanted="y")
    assert response.status_code == 400 and receipt is None
    assert "Please choose how you would like to talk" in response.get_data(as_text=True)
    response, receipt = submit(meeting_wanted="y", meeting_way="video")
    assert response.status_code == 400 and receipt is None


def test_follow_up_refuses_a_meeting_without_a_way(client, submit, follow_up, make_handler):
    make_handler()
    _, receipt = submit()
    follow_up(receipt)
    refused = _post(client, "/follow-up/meeting", "/follow-up/case", {"days": DAYS})
    assert refused.status_code == 400
    assert "Please choose how you would like to talk" in refused.get_data(as_text=True)
    assert _case().meeting_requested is False
    assert _post(client, "/follow-up/minutes/sign", "/follow-up/case", {}).status_code == 302
    assert _case().reporter_signed is None  # no minutes: nothing to sign


def test_the_meeting_request_is_in_the_sealed_content(opened_case):
    case = opened_case.case
    content = envelope.open_report(opened_case.key, case.uuid, case.content)
    assert content["meeting"] is None  # the default report asks for none
    assert json.dumps(content)


@pytest.mark.server
def test_through_gunicorn_the_request_reaches_the_inbox_and_the_minutes_are_signed(
        migrated_database, upload_folder, institution, make_handler):
    handler = make_handler()
    with gunicorn_server(migrated_database, upload_folder, workers=2) as (base_url, process):
        reporter = HttpClient(base_url)
        fields = report_fields(csrf_token=reporter.csrf_token("/report"), meeting_wanted="y",
                               meeting_way="phone", meeting_days=DAYS)
        sent = reporter.post_form("/report", fields)
        found = RECEIPT_RE.search(sent.body)
        assert sent.status == 200 and found, sent.body[:2000]
        receipt = found.group(1).replace(" ", "")

        staff = HttpClient(base_url)
        sign_in_http(staff, handler)
        inbox = staff.get("/staff/cases")
        assert inbox.status == 200 and MARKER in inbox.body
        case_url = re.search(r'href="(/staff/cases/\d+)"', inbox.body).group(1)
        assert DAYS in staff.get(case_url).body
        saved = staff.post_urlencoded(f"{case_url}/minutes", {
            "minutes-minutes": MINUTES, "csrf_token": staff.csrf_token(case_url)})
        assert saved.status == 200 and MARKER not in staff.get("/staff/cases").body

        reporter.post_urlencoded("/follow-up", {
            "receipt": receipt, "csrf_token": reporter.csrf_token("/follow-up")})
        page = reporter.get("/follow-up/case")
        assert MINUTES in page.body
        signed = reporter.post_urlencoded("/follow-up/minutes/sign", {
            "csrf_token": CSRF_RE.search(page.body).group(1)})
        assert signed.status == 200 and 'id="minutes-signed"' in signed.body
        assert "The reporter confirmed (signed) the minutes." in staff.get(case_url).body
        process.terminate()
        output = process.communicate(timeout=15)[0]
    assert_no_server_errors(output.splitlines())

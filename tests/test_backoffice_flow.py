"""A handler works a web report end to end through the real back-office forms."""
import io
import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Case, Outcome, Regime, Status
from tests.conftest import CSRF_RE, csrf_token


def post_form(client, url, page_url, data, files=None):
    token = csrf_token(client, page_url)
    payload = {**data, "csrf_token": token}
    if files:
        payload.update(files)
        return client.post(url, data=payload, content_type="multipart/form-data")
    return client.post(url, data=payload)


def test_handler_triages_acknowledges_messages_and_closes(client, submit, follow_up,
                                                          make_handler, sign_in):
    handler = make_handler("Ana Popescu")
    _, receipt = submit(what_happened="Mita pentru autorizație", work_context="yes")
    case = db.session.scalar(select(Case))
    staff = sign_in(handler)

    inbox = staff.get("/staff/cases").get_data(as_text=True)
    assert case.reference in inbox and "due in 6 days" in inbox
    page_url = f"/staff/cases/{case.id}"
    page = staff.get(page_url).get_data(as_text=True)
    assert "Mita pentru autorizație" in page

    response = post_form(staff, f"{page_url}/triage", page_url,
                         {"triage-regime": "whistleblower", "triage-category": "bribery"})
    assert response.status_code == 302, response.get_data(as_text=True)
    response = post_form(staff, f"{page_url}/acknowledge", page_url,
                         {"ack-message": "Am primit sesizarea dumneavoastră."})
    assert response.status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status is Status.ACKNOWLEDGED and case.regime is Regime.WHISTLEBLOWER
    assert case.next_deadline_kind == "feedback"

    response = post_form(staff, f"{page_url}/message", page_url,
                         {"msg-body": "Aveți și alte documente?"},
                         {"msg-evidence": [(io.BytesIO(b"model cerere"), "model.pdf")]})
    assert response.status_code == 302
    assert post_form(staff, f"{page_url}/note", page_url,
                     {"note-body": "De verificat registrul."}).status_code == 302
    assert post_form(staff, f"{page_url}/assess", page_url, {}).status_code == 302
    assert post_form(staff, f"{page_url}/investigate", page_url, {}).status_code == 302

    # The reporter reads the staff messages (not the internal note) with the receipt.
    follow_up(receipt)
    reporter_page = client.get("/follow-up/case").get_data(as_text=True)
    assert "Am primit sesizarea dumneavoastră." in reporter_page
    assert "Aveți și alte documente?" in reporter_page and "model.pdf" in reporter_page
    assert "De verificat registrul." not in reporter_page

    response = post_form(staff, f"{page_url}/close", page_url,
                         {"close-outcome": "substantiated",
                          "close-message": "Faptele s-au confirmat; s-au luat măsuri."})
    assert response.status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status is Status.CLOSED and case.outcome is Outcome.SUBSTANTIATED
    assert case.next_deadline_at is None
    actions = [e.action for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == case.id))]
    for expected in ("case_opened", "triaged", "acknowledged", "message_sent", "note_added",
                     "status_changed", "closed"):
        assert expected in actions


def test_illegal_transition_is_refused_with_a_message(client, submit, make_handler, sign_in):
    handler = make_handler()
    submit()
    case = db.session.scalar(select(Case))
    staff = sign_in(handler)
    page_url = f"/staff/cases/{case.id}"
    response = post_form(staff, f"{page_url}/investigate", page_url, {})
    assert response.status_code == 400
    assert "A case moves to investigation from assessment." in response.get_data(as_text=True)
    response = post_form(staff, f"{page_url}/close", page_url,
                         {"close-outcome": "dismissed", "close-message": "x"})
    assert "Triage the case first" in response.get_data(as_text=True)
    assert db.session.get(Case, case.id).status is Status.RECEIVED


def test_download_streams_the_decrypted_file(client, submit, make_handler, sign_in):
    handler = make_handler()
    body = b"%PDF-1.4 " + bytes(range(256)) * 9000
    submit(files=[(io.BytesIO(body), "dovada <script>.pdf")])
    case = db.session.scalar(select(Case))
    staff = sign_in(handler)
    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "dovada &lt;script&gt;.pdf" in page
    link = re.search(r'href="(/staff/cases/\d+/files/\d+)"', page).group(1)
    response = staff.get(link)
    assert response.status_code == 200 and response.data == body
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype == "application/octet-stream"
    assert CSRF_RE  # forms on the page carry CSRF tokens


def test_inbox_pages(client, submit, make_handler, sign_in, monkeypatch):
    from app.services.casework import inbox

    monkeypatch.setattr(inbox, "PAGE_SIZE", 1)
    handler = make_handler()
    submit(what_happened="first")
    submit(what_happened="second")
    staff = sign_in(handler)
    first = staff.get("/staff/cases").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Next" in first
    second = staff.get("/staff/cases?page=2")
    assert second.status_code == 200
    assert "Page 2 of 2" in second.get_data(as_text=True)

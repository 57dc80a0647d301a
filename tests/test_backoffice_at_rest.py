"""The design's promise, extended to the back office: what staff write about a case (internal
notes, messages to the reporter, files they send) and what they record by hand (a phone report's
text and transcript, the reporter's identity, scanned documents) is never stored in clear.

The reasons staff type about an identity are no exception: the reason for a reveal sits in the
audit log only encrypted under the case key; the reason of an identity request and of a
custodian's decision only encrypted under a key of the request, sealed to the requester, the
custodians who decide and the recovery key. The custodian's page still shows it.
"""
import io
import secrets
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Case, CaseEvent, Channel, IdentityRequest, Role
from app.services.access import identity
from app.services.access.opened import open_case
from app.services.casework import case_view
from app.services.operations import outbox
from app.services.transaction import unit_of_work
from tests.conftest import CSRF_RE, RECEIPT_RE, csrf_token
from tests.support.database import every_stored_value, every_uploaded_byte
from tests.support.server import free_port
from tests.support.staff import signed_in_access


def columns_holding(needle: bytes) -> set[str]:
    """Every table.column whose stored value contains `needle` (read through SQL, so that a
    whitelisted value can be told apart from a leak)."""
    found = set()
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for column, value in zip(table.columns, row, strict=True):
                    if isinstance(value, (bytes, memoryview)):
                        raw = bytes(value)
                    elif value is None:
                        continue
                    else:
                        raw = str(value).encode()
                    if needle in raw:
                        found.add(f"{table.name}.{column.name}")
    return found


def post(browser, url, data, files=None):
    token = csrf_token(browser, "/staff/password")
    payload = {**data, "csrf_token": token}
    if files:
        payload.update(files)
        return browser.post(url, data=payload, content_type="multipart/form-data")
    return browser.post(url, data=payload)


def digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


@pytest.fixture
def worked_cases(app, client, submit, make_handler, sign_in, institution):
    """A web report and a phone report, worked in the back office with marked text
    everywhere staff can type or send something."""
    handler = make_handler("Ana Popescu")
    custodian = make_handler("Elena Custode", roles=(Role.CUSTODIAN,))
    mark = "bq" + secrets.token_hex(6)
    m = {name: f"{mark}-{name}" for name in (
        "note", "message", "ack", "staff_file_body", "staff_file_name", "intake_text",
        "intake_when", "intake_persons", "transcript", "intake_name", "intake_file_body",
        "intake_file_name", "reveal_reason", "request_reason", "decision_reason")}
    intake_phone = "+40 7" + digits(8)
    intake_email = f"{mark}-intake@example.org"

    response, web_receipt = submit(identity_choice="identified", name="Reporter Web",
                                   email="web.reporter@example.org")
    assert response.status_code == 200
    web_case = db.session.scalar(select(Case))
    staff = sign_in(handler)
    url = f"/staff/cases/{web_case.id}"

    assert post(staff, f"{url}/triage", {"triage-regime": "whistleblower",
                                         "triage-category": "bribery"}).status_code == 302
    assert post(staff, f"{url}/acknowledge", {"ack-message": m["ack"]}).status_code == 302
    assert post(staff, f"{url}/note", {"note-body": m["note"]}).status_code == 302
    staff_file = f"{m['staff_file_body']} " * 50
    assert post(staff, f"{url}/message", {"msg-body": m["message"]}, {"msg-evidence": [
        (io.BytesIO(staff_file.encode()), f"{m['staff_file_name']}.txt")]}).status_code == 302
    revealed = post(staff, f"{url}/identity", {"reveal-reason": m["reveal_reason"]})
    assert revealed.status_code == 200 and "web.reporter@example.org" in revealed.get_data(
        as_text=True)
    # Requests exist under policy `custodian`: a second report, made after the switch.
    institution.identity_policy = "custodian"
    db.session.commit()
    submit(identity_choice="identified", name="Reporter Two", email="two@example.org")
    second = db.session.scalar(select(Case).order_by(Case.id.desc()))
    assert post(staff, f"/staff/cases/{second.id}/identity-request",
                {"reveal-reason": m["request_reason"]}).status_code == 302
    keeper = sign_in(custodian)
    request_id = db.session.scalar(select(IdentityRequest.id))
    # The custodian who decides reads the reason (opened with their own key).
    assert m["request_reason"] in keeper.get("/staff/identity-requests").get_data(as_text=True)
    assert post(keeper, "/staff/identity-requests", {
        "request_id": str(request_id), "decision": "deny",
        "reason": m["decision_reason"]}).status_code == 302
    institution.identity_policy = "direct"  # back, for the phone report below
    db.session.commit()

    # A phone report recorded by hand: text, transcript signed by the reporter, identity,
    # a scanned document, and a receipt to hand over.
    intake_page = staff.get("/staff/intake").get_data(as_text=True)
    token = CSRF_RE.search(intake_page).group(1)
    done = staff.post("/staff/intake", content_type="multipart/form-data", data={
        "csrf_token": token, "channel": "phone", "platform": "",
        "received_on": date.today().isoformat(),
        "category": "abuse_of_office", "what_happened": m["intake_text"],
        "when_where": m["intake_when"], "persons_involved": m["intake_persons"],
        "transcript": m["transcript"], "reporter_signed": "y", "work_context": "y",
        "name": m["intake_name"], "email": intake_email, "phone": intake_phone,
        "issue_receipt": "y",
        "evidence": [(io.BytesIO(f"{m['intake_file_body']} scanned".encode()),
                      f"{m['intake_file_name']}.pdf")]})
    assert done.status_code == 200, done.get_data(as_text=True)
    match = RECEIPT_RE.search(done.get_data(as_text=True))
    assert match, "the confirmation page shows the receipt"
    intake_receipt = match.group(1).replace(" ", "")
    intake_case = db.session.scalar(select(Case).where(Case.channel == Channel.PHONE))
    assert intake_case.reporter_signed is True and not intake_case.anonymous
    assert intake_case.recorded_by_staff_id == handler.id

    return {"handler": handler, "staff": staff, "mark": mark, "m": m,
            "web_case": web_case, "web_receipt": web_receipt,
            "intake_case": intake_case, "intake_receipt": intake_receipt,
            "intake_phone": intake_phone, "intake_email": intake_email,
            "staff_file": staff_file.encode()}


def test_nothing_staff_wrote_is_stored_in_clear(worked_cases, migrated_database,
                                                upload_folder):
    w = worked_cases
    m = w["m"]
    stored = every_stored_value(migrated_database)
    uploaded = every_uploaded_byte(upload_folder)
    assert uploaded and stored

    secret = list(m.values()) + [
        w["intake_email"], w["intake_phone"], w["intake_phone"].replace(" ", ""),
        w["intake_receipt"], w["web_receipt"]]
    for value in secret:
        needle = value.encode()
        assert needle not in stored, f"{value} is in the database"
        assert needle not in uploaded, f"{value} is in the upload folder"
        assert columns_holding(needle) == set(), value

    # Audit and event details hold ids, statuses and dates only.
    mark = w["mark"].encode()
    for entry in db.session.scalars(select(AuditEntry)):
        assert mark not in (entry.detail or "").encode(), entry.action
    for event in db.session.scalars(select(CaseEvent)):
        assert mark not in (event.detail or "").encode()

    # Stored files have random names, nothing derived from the file's name.
    names = [p.name for p in Path(upload_folder).rglob("*") if p.is_file()]
    assert len(names) == 2  # the staff's file and the scanned document
    for name in names:
        assert w["mark"] not in name and len(name) == 32
        int(name, 16)


def test_everything_opens_again_with_the_handlers_key(worked_cases, institution, kdf_params):
    w = worked_cases
    m = w["m"]
    access = signed_in_access(institution, w["handler"], kdf_params)

    with unit_of_work():
        view = case_view.read_case(access, w["web_case"].id)
    bodies = {item.kind: [] for item in view.thread}
    for item in view.thread:
        bodies[item.kind].append(item.body)
    assert m["note"] in bodies["note"]
    assert m["ack"] in bodies["staff"] and m["message"] in bodies["staff"]
    [sent_file] = [f for item in view.thread for f in item.files]
    assert sent_file.name == f"{m['staff_file_name']}.txt"
    with unit_of_work():
        _, chunks = case_view.download(open_case(access, w["web_case"].id), sent_file.id)
        assert b"".join(chunks) == w["staff_file"]

    with unit_of_work():
        view = case_view.read_case(access, w["intake_case"].id)
    assert view.content["what_happened"] == m["intake_text"]
    assert view.content["when_where"] == m["intake_when"]
    assert view.content["persons_involved"] == m["intake_persons"]
    assert view.content["transcript"] == m["transcript"]
    [scan] = view.files
    assert scan.name == f"{m['intake_file_name']}.pdf"
    with unit_of_work():
        _, chunks = case_view.download(open_case(access, w["intake_case"].id), scan.id)
        assert b"".join(chunks) == f"{m['intake_file_body']} scanned".encode()
    with unit_of_work():
        shown = identity.reveal(open_case(access, w["intake_case"].id),
                                "Verificare după audit intern.")
    assert shown == {"name": m["intake_name"], "email": w["intake_email"],
                     "phone": w["intake_phone"]}


def test_the_receipt_from_the_intake_page_opens_the_case(worked_cases, app, follow_up,
                                                         client):
    w = worked_cases
    m = w["m"]
    response = follow_up(w["intake_receipt"])
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/follow-up/case")
    page = client.get("/follow-up/case").get_data(as_text=True)
    assert w["intake_case"].reference in page
    assert m["intake_text"] in page and f"{m['intake_file_name']}.pdf" in page
    # Internal notes and the other case's messages are not there.
    assert m["note"] not in page and m["message"] not in page


def test_the_reporter_can_check_the_transcript_of_an_oral_report(worked_cases, follow_up,
                                                                 client):
    follow_up(worked_cases["intake_receipt"])
    page = client.get("/follow-up/case").get_data(as_text=True)
    assert worked_cases["m"]["transcript"] in page


@pytest.mark.parametrize("app_config", [{"MAIL_SERVER": "127.0.0.1",
                                         "MAIL_PORT": free_port()}], indirect=True)
def test_reporter_address_waits_in_the_outbox_only_until_the_first_attempt(
        submit, make_handler, sign_in, migrated_database):
    """The address is in the outbox only sealed under a key from the configuration, never in
    clear: not while the notice waits, not after a failed attempt (here: no mail server)."""
    handler = make_handler()
    address = "rz" + secrets.token_hex(5) + "@example.org"
    submit(identity_choice="identified", email=address)
    case = db.session.scalar(select(Case))
    staff = sign_in(handler)
    assert post(staff, f"/staff/cases/{case.id}/message",
                {"msg-body": "O întrebare."}).status_code == 302
    assert columns_holding(address.encode()) == set()
    assert address.encode() not in every_stored_value(migrated_database)
    for _ in range(3):
        outbox.deliver_outbox()
    assert columns_holding(address.encode()) == set()
    assert address.encode() not in every_stored_value(migrated_database)

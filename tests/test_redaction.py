"""Deleting manifestly irrelevant personal data from a case (GDPR art. 17, Directive art. 17),
through the real case page: a passage of the report or of a message replaced by "[redacted]",
a file deleted. Only a handler holding the key, only with a reason; audited without the text.
"""
import io
import json
import os
import re
import secrets

from sqlalchemy import select

from app.crypto import envelope
from app.extensions import db
from app.models import Attachment, AuditEntry, Case, CaseEvent, Message, Role
from app.services.access import keys as access
from app.services.audit import chain as audit
from app.services.staff.members import unlock_private_key
from tests.conftest import csrf_token
from tests.support.database import every_stored_value

REASON = "The neighbour's details have nothing to do with the facts."


def case_key_for(member, case: Case) -> bytes:
    return access.open_case_key(case, member, unlock_private_key(member, member.password))


def content_of(member, case_id: int) -> dict:
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    return envelope.open_report(case_key_for(member, case), case.uuid, case.content)


def post(browser, case_id: int, action: str, data: dict):
    token = csrf_token(browser, f"/staff/cases/{case_id}")
    return browser.post(f"/staff/cases/{case_id}/{action}", data={**data, "csrf_token": token})


def test_a_passage_of_the_report_is_redacted_everywhere_it_was(app, submit, make_handler,
                                                              sign_in, migrated_database):
    handler = make_handler()
    secret = "CNP " + "".join(secrets.choice("0123456789") for _ in range(13))
    _, receipt = submit(what_happened="The clerk asked for money.",
                        persons_involved=f"My neighbour Ion, {secret}, saw it. Again: {secret}.")
    case = db.session.scalar(select(Case))
    old_blob = case.content
    staff = sign_in(handler)

    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert 'value="report:persons_involved"' in page and 'value="report:when_where"' not in page

    response = post(staff, case.id, "redact", {"redact-target": "report:persons_involved",
                                               "redact-passage": f"  {secret} ",
                                               "redact-reason": REASON})
    assert response.status_code == 302, response.get_data(as_text=True)
    content = content_of(handler, case.id)
    assert content["persons_involved"] == "My neighbour Ion, [redacted], saw it. Again: [redacted]."
    assert content["what_happened"] == "The clerk asked for money."
    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert secret not in page and "[redacted]" in page

    # Neither the text nor the old ciphertext (which the case key would still open) is stored.
    stored = every_stored_value(migrated_database)
    assert secret.encode() not in stored
    assert old_blob[-16:] not in stored  # its tag: no trace of it in a freed cell either

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report_redacted"))
    assert json.loads(entry.detail) == {"field": "persons_involved", "occurrences": 2,
                                        "reason": REASON}
    assert entry.actor_staff_id == handler.id and entry.case_id == case.id
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "report_redacted"))
    assert json.loads(event.detail) == {"field": "persons_involved", "occurrences": 2}
    assert audit.verify() is None


def test_refusals_change_nothing_and_say_what_to_do(app, submit, make_handler, sign_in):
    handler = make_handler()
    submit(what_happened="The mayor's cousin got the contract. Phone 0722 000 111.")
    case = db.session.scalar(select(Case))
    before = db.session.get(Case, case.id).content
    staff = sign_in(handler)

    short = post(staff, case.id, "redact", {"redact-target": "report:what_happened",
                                            "redact-passage": "0722 000 111",
                                            "redact-reason": "no need"})
    assert short.status_code == 400
    assert "(at least 10 characters)" in short.get_data(as_text=True)

    missing = post(staff, case.id, "redact", {"redact-target": "report:what_happened",
                                              "redact-passage": "0733 999 999",
                                              "redact-reason": REASON})
    assert missing.status_code == 400
    assert "This passage is not in the chosen text" in missing.get_data(as_text=True)

    nowhere = post(staff, case.id, "redact", {"redact-target": "report:excluded_staff_ids",
                                              "redact-passage": "1", "redact-reason": REASON})
    assert nowhere.status_code == 400
    assert "Choose the part of the case to redact." in nowhere.get_data(as_text=True)

    no_reason = post(staff, case.id, "delete-file", {"delfile-file": "1"})
    assert no_reason.status_code == 400

    db.session.expire_all()
    assert db.session.get(Case, case.id).content == before
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.action.in_(("report_redacted", "file_deleted")))) is None


def test_a_message_is_redacted_for_the_reporter_too(app, client, submit, follow_up,
                                                    make_handler, sign_in):
    handler = make_handler()
    _, receipt = submit()
    case = db.session.scalar(select(Case))
    follow_up(receipt)
    token = csrf_token(client, "/follow-up/case")
    client.post("/follow-up/message", data={
        "body": "My cousin Maria Pop\r\nlives at Strada Mare 4.\r\nShe saw it too.",
        "csrf_token": token})
    message = db.session.scalar(select(Message))
    staff = sign_in(handler)

    response = post(staff, case.id, "redact", {
        "redact-target": f"message:{message.id}",
        "redact-passage": "Maria Pop\r\nlives at Strada Mare 4.", "redact-reason": REASON})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    message = db.session.get(Message, message.id)
    body = envelope.open_message(case_key_for(handler, case), message.uuid, message.body)
    assert body == "My cousin [redacted]\nShe saw it too." or \
        body == "My cousin [redacted]\r\nShe saw it too."
    reporter_page = client.get("/follow-up/case").get_data(as_text=True)
    assert "Strada Mare" not in reporter_page and "[redacted]" in reporter_page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "message_redacted"))
    assert json.loads(entry.detail) == {"message": message.id, "occurrences": 1,
                                        "reason": REASON}
    assert "Strada" not in entry.detail


def test_a_deleted_file_loses_its_row_and_its_bytes(app, submit, make_handler, sign_in,
                                                    upload_folder):
    handler = make_handler()
    body = b"photo of a stranger " * 4000
    submit(files=[(io.BytesIO(body), "stranger.pdf"), (io.BytesIO(b"the contract"),
                                                        "contract.pdf")])
    case = db.session.scalar(select(Case))
    stranger = db.session.scalar(select(Attachment).order_by(Attachment.id))
    stranger_id = stranger.id  # the row is gone after the deletion, the number is not
    path = os.path.join(upload_folder, stranger.storage_name)
    on_disk = open(path, "rb")
    size = os.path.getsize(path)
    staff = sign_in(handler)
    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert re.search(rf'<option value="{stranger.id}">stranger.pdf \(', page)

    response = post(staff, case.id, "delete-file", {"delfile-file": str(stranger_id),
                                                    "delfile-reason": REASON})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Attachment, stranger_id) is None
    assert not os.path.exists(path) and len(os.listdir(upload_folder)) == 1
    with on_disk:
        left = on_disk.read()
    assert len(left) == size and body[:40] not in left  # overwritten before it was removed
    assert staff.get(f"/staff/cases/{case.id}/files/{stranger_id}").status_code == 403
    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "stranger.pdf" not in page and "contract.pdf" in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "file_deleted"))
    assert json.loads(entry.detail) == {"file": stranger_id, "reason": REASON}


def test_only_a_handler_holding_the_key_may_redact(app, submit, make_handler, sign_in,
                                                   upload_folder):
    holder = make_handler("Ana Holder")
    excluded = make_handler("Ion Exclus")
    submit(what_happened="Secret passage here.", excluded=str(excluded.id),
           files=[(io.BytesIO(b"evidence"), "e.pdf")])
    newcomer = make_handler("Dan Nou")  # joined after the report: holds no key
    coordinator = make_handler("Maria Coord", roles=(Role.COORDINATOR,))
    case = db.session.scalar(select(Case))
    before = case.content
    file_id = db.session.scalar(select(Attachment.id))
    holder_page = sign_in(holder)

    for member in (excluded, newcomer, coordinator):
        browser = sign_in(member)
        token = csrf_token(browser, "/staff/password")
        for action, data in (
                ("redact", {"redact-target": "report:what_happened",
                            "redact-passage": "Secret passage", "redact-reason": REASON}),
                ("delete-file", {"delfile-file": str(file_id), "delfile-reason": REASON})):
            response = browser.post(f"/staff/cases/{case.id}/{action}",
                                    data={**data, "csrf_token": token})
            assert response.status_code == 403, (member.name, action)
            assert b"Secret passage" not in response.data

    db.session.expire_all()
    assert db.session.get(Case, case.id).content == before
    assert db.session.get(Attachment, file_id) is not None
    assert len(os.listdir(upload_folder)) == 1
    assert holder_page.get(f"/staff/cases/{case.id}").status_code == 200

"""Bad input gets a clear message where it belongs, keeps what was typed, and stores nothing."""
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Case, KeyWrap, Receipt, ReporterSession
from tests.conftest import csrf_token, report_fields


def nothing_stored(upload_folder: str) -> bool:
    rows = sum(db.session.scalar(select(func.count()).select_from(model))
               for model in (Case, Attachment, Receipt, KeyWrap))
    files = [p for p in Path(upload_folder).rglob("*") if p.is_file()]
    return rows == 0 and not files


@pytest.fixture(autouse=True)
def one_handler(make_handler):
    make_handler()


@pytest.mark.parametrize("overrides, message", [
    ({"what_happened": ""}, "Please describe what happened."),
    ({"what_happened": "   "}, "Please describe what happened."),
    ({"what_happened": "x" * 20001}, "Please keep this under 20000 characters."),
    ({"when_where": "x" * 4001}, "Please keep this under 4000 characters."),
    ({"category": ""}, "Please choose what the report is about."),
    ({"category": "not-a-category"}, "Not a valid choice"),
    ({"work_context": ""}, "Please tell us whether you learned of it at work."),
    ({"consent": ""}, "Please confirm that you have read the privacy notice."),
    ({"identity_choice": "identified", "name": "Ana"}, "give at least an e-mail address or a phone"),
    ({"identity_choice": "identified", "email": "not-an-address"},
     "This does not look like an e-mail address."),
    ({"identity_choice": "identified", "phone": "call me"}, "Please write the phone number"),
    ({"website": "http://spam.example"}, "Your report could not be accepted."),
])
def test_invalid_report_is_refused_with_its_message(submit, upload_folder, overrides, message):
    response, receipt = submit(**{**{"when_where": "în birou, luni"}, **overrides})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and receipt is None
    assert message in page
    assert "Please correct the marked fields. Nothing has been sent yet." in page
    assert "în birou, luni" in page or "when_where" in overrides  # what was typed is kept
    assert nothing_stored(upload_folder)


@pytest.mark.parametrize("app_config", [{"UPLOAD_MAX_FILE_BYTES": 1000,
                                         "UPLOAD_MAX_TOTAL_BYTES": 1500}], indirect=True)
def test_file_limits(submit, upload_folder):
    response, _ = submit(files=[(io.BytesIO(b"x" * 1001), "big.pdf")])
    assert response.status_code == 400 and "“big.pdf” is larger than" in response.get_data(
        as_text=True)
    response, _ = submit(files=[(io.BytesIO(b"x" * 900), "a.pdf"),
                                (io.BytesIO(b"x" * 900), "b.pdf")])
    assert "Together the files are larger than" in response.get_data(as_text=True)
    assert nothing_stored(upload_folder)


def test_too_many_files(submit, upload_folder, app):
    count = app.config["UPLOAD_MAX_FILES"] + 1
    response, _ = submit(files=[(io.BytesIO(b"x"), f"f{i}.txt") for i in range(count)])
    assert response.status_code == 400
    assert f"You can attach at most {count - 1} files." in response.get_data(as_text=True)
    assert nothing_stored(upload_folder)


def test_disallowed_file_type_and_unreadable_picture(submit, upload_folder):
    response, _ = submit(files=[(io.BytesIO(b"MZ\x90"), "setup.exe")])
    assert "“setup.exe” is not a kind of file we accept." in response.get_data(as_text=True)
    response, _ = submit(files=[(io.BytesIO(b"not really a jpeg"), "poza.jpg")])
    assert "This picture could not be read." in response.get_data(as_text=True)
    # A valid file beside a bad one: nothing of either is kept.
    response, _ = submit(files=[(io.BytesIO(b"ok"), "ok.txt"), (io.BytesIO(b"MZ"), "x.exe")])
    assert response.status_code == 400
    assert nothing_stored(upload_folder)


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 10_000}], indirect=True)
def test_request_beyond_the_body_limit_gets_a_clear_page(client, upload_folder):
    data = report_fields(csrf_token=csrf_token(client, "/report"))
    data["evidence"] = [(io.BytesIO(b"x" * 20_000), "huge.pdf")]
    response = client.post("/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert nothing_stored(upload_folder)


def test_missing_or_wrong_csrf_token_stores_nothing(client, upload_folder):
    for token in (None, "forged-token"):
        data = report_fields()
        if token:
            data["csrf_token"] = token
        response = client.post("/report", data=data)
        assert response.status_code == 400
        assert "The form expired or was sent from another page." in response.get_data(
            as_text=True)
    assert nothing_stored(upload_folder)


@pytest.mark.parametrize("typed", ["0000 0000 0000 0000", "123", "abcd efgh ijkl mnop",
                                   "1" * 200, ""])
def test_wrong_receipt_gets_one_generic_message(client, submit, follow_up, typed):
    _, receipt = submit()
    response = follow_up(typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    if typed:
        assert "This receipt does not open any report." in page
    else:
        assert "Please enter your receipt." in page
    assert typed not in page or not typed  # the code typed is never echoed back
    assert db.session.scalar(select(func.count(ReporterSession.id))) == 0


def test_message_errors_keep_the_reporter_on_the_case(client, submit, follow_up):
    _, receipt = submit()
    follow_up(receipt)
    token = csrf_token(client, "/follow-up/case")
    response = client.post("/follow-up/message", data={"body": "", "csrf_token": token})
    assert response.status_code == 400
    assert "Please write a message." in response.get_data(as_text=True)
    response = client.post("/follow-up/message", data={
        "body": "with a bad file", "csrf_token": token,
        "evidence": [(io.BytesIO(b"MZ"), "x.exe")]}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "is not a kind of file we accept" in page
    assert "with a bad file" in page


def test_follow_up_without_a_session_asks_for_the_receipt(client):
    response = client.get("/follow-up/case")
    assert response.status_code == 401
    assert "Please enter your receipt to continue." in response.get_data(as_text=True)

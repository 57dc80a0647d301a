"""Voice on the citizen forms: the disguise on by default and off only when the reporter
unticks it on a form that showed the box; the preview that returns the disguised Opus and
stores nothing; a voice-only message at follow-up. Through the Flask client."""
import io
import logging
import os
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Case, Message
from app.services.intake.voice import WORK_RATE
from tests.conftest import csrf_token
from tests.support import voice
from tests.support.database import stored_row_values

F0 = 120.0
DISGUISED_F0 = F0 * 2 ** (-4 / 12)


@pytest.fixture(scope="module")
def recording() -> bytes:
    return voice.encode(voice.vowel(F0, 2.0, WORK_RATE), WORK_RATE, "ogg")


def _pitch_of_stored(sign_in, handler) -> float:
    """The pitch of the one voice file of the latest case, as the handler downloads it."""
    staff = sign_in(handler)
    case = db.session.scalar(select(Case).order_by(Case.id.desc()))
    attachment = db.session.scalar(select(Attachment).where(Attachment.case_id == case.id))
    played = staff.get(f"/staff/cases/{case.id}/files/{attachment.id}")
    samples, codec, *_ = voice.decode(played.data)
    assert codec == "opus"
    return voice.fundamental(samples, WORK_RATE)


def test_the_voice_field_is_disguised_when_the_box_stays_ticked(
        submit, make_handler, sign_in, recording):
    handler = make_handler()
    _, receipt = submit(voice=(io.BytesIO(recording), "voice.ogg"), voice_disguise="y",
                        voice_choice="shown")
    assert receipt
    assert _pitch_of_stored(sign_in, handler) == pytest.approx(DISGUISED_F0, rel=0.015)


def test_an_unticked_box_keeps_the_reporters_own_voice(submit, make_handler, sign_in, recording):
    handler = make_handler()
    _, receipt = submit(voice=(io.BytesIO(recording), "voice.ogg"), voice_choice="shown")
    assert receipt
    assert _pitch_of_stored(sign_in, handler) == pytest.approx(F0, rel=0.015)


def test_a_form_that_did_not_show_the_box_is_disguised(submit, make_handler, sign_in, recording):
    handler = make_handler()
    _, receipt = submit(voice=(io.BytesIO(recording), "voice.ogg"))  # neither field sent
    assert receipt
    assert _pitch_of_stored(sign_in, handler) == pytest.approx(DISGUISED_F0, rel=0.015)


def test_the_report_form_offers_the_recorder_and_the_file_fallback(client, institution):
    page = client.get("/report").get_data(as_text=True)
    assert 'id="recorder" hidden' in page  # shown by the script only
    assert 'name="voice" type="file"' in page and 'accept="audio/*' in page
    [box] = re.findall(r'<input[^>]*name="voice_disguise"[^>]*>', page)
    assert "checked" in box  # disguised unless the reporter unticks it
    assert '<input type="hidden" name="voice_choice" value="shown">' in page


def test_the_preview_returns_the_disguised_opus_and_stores_nothing(
        client, institution, upload_folder, recording):
    token = csrf_token(client, "/report")
    before = stored_row_values()
    response = client.post("/voice/preview", data={"recording": (io.BytesIO(recording), "v.ogg")},
                           headers={"X-CSRFToken": token}, content_type="multipart/form-data")
    assert response.status_code == 200 and response.mimetype == "audio/ogg"
    samples, codec, container_tags, stream_tags = voice.decode(response.data)
    assert codec == "opus" and container_tags == {} == stream_tags
    assert voice.fundamental(samples, WORK_RATE) == pytest.approx(DISGUISED_F0, rel=0.015)
    assert response.headers["Cache-Control"] == "no-store"
    assert stored_row_values() == before
    assert not os.path.isdir(upload_folder) or not os.listdir(upload_folder)


def test_the_preview_refuses_what_is_not_a_recording_and_a_missing_token(client, institution):
    token = csrf_token(client, "/report")
    refused = client.post("/voice/preview",
                          data={"recording": (io.BytesIO(b"\x89PNG not audio"), "v.webm")},
                          headers={"X-CSRFToken": token}, content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "could not be played as a sound recording" in refused.get_data(as_text=True)
    assert client.post("/voice/preview", data={}, headers={"X-CSRFToken": token},
                       content_type="multipart/form-data").status_code == 400
    no_token = client.post("/voice/preview",
                           data={"recording": (io.BytesIO(b"x"), "v.ogg")},
                           content_type="multipart/form-data")
    assert no_token.status_code == 400


def test_follow_up_takes_a_voice_only_message(client, submit, follow_up, make_handler,
                                              sign_in, recording):
    handler = make_handler()
    _, receipt = submit()
    follow_up(receipt)
    sent = client.post("/follow-up/message", data={
        "body": "", "voice": (io.BytesIO(recording), "voice.ogg"), "voice_disguise": "y",
        "voice_choice": "shown", "csrf_token": csrf_token(client, "/follow-up/case")},
        content_type="multipart/form-data")
    assert sent.status_code == 302, sent.get_data(as_text=True)
    assert db.session.scalar(select(Message)) is not None
    assert _pitch_of_stored(sign_in, handler) == pytest.approx(DISGUISED_F0, rel=0.015)
    # Neither words nor a file: refused with the reason.
    empty = client.post("/follow-up/message", data={
        "body": "", "csrf_token": csrf_token(client, "/follow-up/case")})
    assert empty.status_code == 400 and "Please write a message." in empty.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "RATELIMIT_VOICE_PREVIEW": "2 per minute"}],
                         indirect=True)
def test_the_preview_is_throttled_and_logs_nothing_of_the_recording(
        client, institution, recording, caplog):
    token = csrf_token(client, "/report")
    caplog.set_level(logging.DEBUG)
    statuses = [client.post("/voice/preview",
                            data={"recording": (io.BytesIO(recording), "secret-name.ogg")},
                            headers={"X-CSRFToken": token},
                            content_type="multipart/form-data").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert "secret-name" not in caplog.text

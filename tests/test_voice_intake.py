"""A phone recording attached to a report, without JavaScript: it is stored disguised, as Opus,
encrypted; the handler's case page plays it through the audited download route. Through the
Flask client, and once end to end through real gunicorn workers and HTTP."""
import base64
import io
import os
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Case
from app.services.intake.voice import WORK_RATE
from tests.conftest import RECEIPT_RE, report_fields
from tests.support import voice
from tests.support.http import HttpClient
from tests.support.server import gunicorn_server
from tests.support.server_log import assert_no_server_errors
from tests.support.staff import sign_in_http

F0 = 120.0
DISGUISED_F0 = F0 * 2 ** (-4 / 12)  # the default: four semitones down
AUDIO_SRC = re.compile(r'<audio controls preload="none" aria-label="[^"]*" '
                       r'src="(/staff/cases/\d+/files/\d+)">')


@pytest.fixture(scope="module")
def phone_mp3() -> bytes:
    return voice.encode(voice.vowel(F0, 3.0, WORK_RATE), WORK_RATE, "mp3", voice.TAGS)


def _assert_disguised_opus(content: bytes) -> None:
    samples, codec, container_tags, stream_tags = voice.decode(content)
    assert codec == "opus" and container_tags == {} == stream_tags
    assert not any(tag.encode() in content for tag in voice.TAGS.values())
    assert voice.fundamental(samples, WORK_RATE) == pytest.approx(DISGUISED_F0, rel=0.015)


def _stored_files(upload_folder: str) -> list[bytes]:
    return [open(os.path.join(upload_folder, name), "rb").read()
            for name in os.listdir(upload_folder)]


def test_an_attached_recording_is_stored_disguised_and_played_on_the_case_page(
        submit, make_handler, sign_in, upload_folder, phone_mp3):
    handler = make_handler()
    response, receipt = submit(files=[(io.BytesIO(phone_mp3), "mesaj vocal.mp3"),
                                      (io.BytesIO(b"%PDF-1.4 dovada"), "act.pdf")])
    assert receipt, response.get_data(as_text=True)
    stored = _stored_files(upload_folder)
    assert len(stored) == 2
    for content in stored:  # encrypted: neither Ogg nor the tags
        assert b"OggS" not in content and b"TITLUMARCAJ" not in content

    staff = sign_in(handler)
    case = db.session.scalar(select(Case))
    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "mesaj vocal.opus" in page and "mesaj vocal.mp3" not in page
    [source] = AUDIO_SRC.findall(page)  # one player: the PDF has none
    downloads = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "file_downloaded"))
    assert downloads == 0  # preload="none": showing the page plays (and records) nothing

    played = staff.get(source)
    # An opaque download like every file (never rendered); players recognise Ogg by content.
    assert played.status_code == 200 and played.mimetype == "application/octet-stream"
    assert played.headers["Content-Disposition"].startswith("attachment;")
    _assert_disguised_opus(played.data)
    downloads = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "file_downloaded"))
    assert downloads == 1  # playing is reading the evidence: audited like a download


def test_a_picture_renamed_mp3_is_refused_at_the_form_with_the_message(submit, make_handler):
    make_handler()
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgAB"
                           "4iG8MwAAAABJRU5ErkJggg==")
    response, receipt = submit(files=[(io.BytesIO(png), "inregistrare.mp3")])
    assert response.status_code == 400 and receipt is None
    assert "“inregistrare.mp3” could not be played as a sound recording" in response.get_data(
        as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_film_under_an_audio_name_is_kept_as_it_came(submit, make_handler, sign_in):
    handler = make_handler()
    film = voice.webm_film(voice.vowel(F0, 1.0, WORK_RATE), WORK_RATE)
    response, receipt = submit(files=[(io.BytesIO(film), "ecran.webm")])
    assert receipt, response.get_data(as_text=True)
    staff = sign_in(handler)
    case = db.session.scalar(select(Case))
    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "ecran.webm" in page and not AUDIO_SRC.findall(page)
    link = re.search(r'href="(/staff/cases/\d+/files/\d+)"', page).group(1)
    assert staff.get(link).data == film


@pytest.mark.server
def test_through_gunicorn_an_uploaded_mp3_reaches_the_handler_as_disguised_opus(
        migrated_database, upload_folder, institution, make_handler, phone_mp3):
    handler = make_handler()
    with gunicorn_server(migrated_database, upload_folder, workers=2) as (base_url, process):
        reporter = HttpClient(base_url)
        fields = report_fields(csrf_token=reporter.csrf_token("/report"))
        sent = reporter.post_form("/report", fields, [("evidence", "telefon.mp3", phone_mp3)])
        assert sent.status == 200 and RECEIPT_RE.search(sent.body), sent.body[:2000]

        staff = HttpClient(base_url)
        sign_in_http(staff, handler)
        case_id = db.session.scalar(select(Case.id))
        case_page = staff.get(f"/staff/cases/{case_id}")
        assert case_page.status == 200, case_page.body[:2000]
        [source] = AUDIO_SRC.findall(case_page.body)
        download = staff.get(source)
        assert download.status == 200
        content = download.content
        assert int(download.headers["Content-Length"]) == len(content)
        process.terminate()
        output = process.communicate(timeout=15)[0]
    _assert_disguised_opus(content)
    assert_no_server_errors(output.splitlines())


def test_staff_attach_a_call_recording_only_with_the_reporters_consent(
        make_handler, sign_in, upload_folder, phone_mp3):
    """Manual intake of a phone report: the recording is refused (nothing saved) until the
    consent box is ticked; then it is stored disguised and the case page says it was made
    with consent."""
    from tests.support.forms import intake

    staff = sign_in(make_handler())
    fields = {"channel": "phone", "transcript": "Apel primit la 10:15.",
              "evidence": (io.BytesIO(phone_mp3), "apel.mp3")}
    refused = intake(staff, **fields)
    assert refused.status_code == 400
    assert "may be attached only with their consent" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    assert _stored_files(upload_folder) == []

    fields["evidence"] = (io.BytesIO(phone_mp3), "apel.mp3")
    taken = intake(staff, recording_consent="y", **fields)
    assert taken.status_code == 200, taken.get_data(as_text=True)[:2000]
    case = db.session.scalar(select(Case))
    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "made with the reporter's consent" in page
    [source] = AUDIO_SRC.findall(page)
    _assert_disguised_opus(staff.get(source).data)

"""A phone recording sent without JavaScript is played by the handler in Chromium: the case
page's player streams the disguised Opus from the audited download route of real gunicorn
workers (an opaque application/octet-stream download, like every file: Chromium recognises Ogg
by its content), and it really plays (no media error, time advances)."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case
from app.services.intake.voice import WORK_RATE
from tests.support import voice
from tests.support.staff import sign_in_page

from .citizen import report

pytestmark = pytest.mark.browser

PLAYED = """async (audio) => {
    audio.muted = true;
    await audio.play();
    await new Promise((done) => {
        const check = () => audio.currentTime > 0.5 ? done() : setTimeout(check, 50);
        check();
    });
    audio.pause();
    return {duration: audio.duration, time: audio.currentTime, error: audio.error};
}"""


def test_the_handler_plays_a_voice_message_on_the_case_page(new_page, portal):
    recording = voice.encode(voice.vowel(120, 3.0, WORK_RATE), WORK_RATE, "mp3", voice.TAGS)
    citizen = new_page(java_script_enabled=False)
    submitted = report(citizen, files=[{"name": "mesaj.mp3", "mimeType": "audio/mpeg",
                                        "buffer": recording}])
    case_id = db.session.scalar(select(Case.id).where(Case.reference == submitted.reference))
    db.session.close()

    handler = new_page(locale="en-GB")
    sign_in_page(handler, portal.handler)
    handler.goto(f"/staff/cases/{case_id}")
    player = handler.locator("audio[controls]")
    assert player.count() == 1 and player.get_attribute("preload") == "none"
    state = player.evaluate(PLAYED)
    assert state["error"] is None and state["time"] > 0.5
    # The download route answers no Range request, so Chromium cannot read the Ogg's last
    # page ahead of time: the total duration shows once it has played to the end.
    assert state["duration"] == pytest.approx(3.0, abs=0.1) or state["duration"] == float("inf")

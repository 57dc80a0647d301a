"""A voice message recorded in Chromium (a fake microphone playing a known vowel): recorded,
heard disguised before sending, re-recorded, sent with the report and at follow-up, stored
disguised as Opus, and played by the handler; the pages with the recorder stay under budget."""
import re
import wave

import numpy as np
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case
from tests.support import voice
from tests.support.staff import sign_in_page

from .citizen import MESSAGE_SUBMIT, fill_report, open_case, send_report
from .conftest import CHROMIUM, LAUNCH_ARGS, watch_responses
from .test_reach import BUDGET_BYTES, Recorder
from .test_voice_player import PLAYED

pytestmark = pytest.mark.browser

F0 = 120.0
DISGUISED_F0 = F0 * 2 ** (-4 / 12)  # the default: four semitones down
RATE = 16_000
AUDIO_SRC = re.compile(r'src="(/staff/cases/\d+/files/\d+)"')


@pytest.fixture(scope="module")
def microphone(tmp_path_factory) -> str:
    """A WAV the fake capture device plays in a loop: a vowel at F0."""
    path = tmp_path_factory.mktemp("microphone") / "vowel.wav"
    samples = voice.vowel(F0, 4.0, RATE)
    pcm = (np.clip(samples / np.abs(samples).max() * 0.6, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())
    return str(path)


@pytest.fixture(scope="module")
def speaking_browser(browser, microphone):
    """A Chromium whose microphone is the vowel, allowed without asking."""
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}"])
    yield chromium
    chromium.close()


@pytest.fixture
def speaking_page(speaking_browser, portal, browser_problems):
    contexts = []

    def open_page():
        context = speaking_browser.new_context(base_url=portal.base_url, locale="ro-RO")
        context.set_default_timeout(20_000)
        watch_responses(context, portal.base_url, browser_problems)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _pitch(opus: bytes) -> float:
    samples, codec, container_tags, stream_tags = voice.decode(opus)
    assert codec == "opus" and container_tags == {} == stream_tags
    return voice.fundamental(samples, RATE)


def _record(page, seconds: float = 2.0) -> bytes:
    """Record, stop, wait for the disguised preview and play it; returns the bytes the
    server sent for it (what the page's player plays, from a blob: URL)."""
    heard: list[bytes] = []

    def keep(route):  # the preview passes through unchanged; the test keeps a copy
        response = route.fetch()
        heard.append(response.body())
        route.fulfill(response=response)

    page.route("**/voice/preview", keep)
    recorder = page.locator("#recorder")
    page.click('#recorder [data-action="record"]')
    page.locator('#recorder [data-action="stop"]').wait_for(state="visible")
    page.wait_for_timeout(seconds * 1000)
    page.click('#recorder [data-action="stop"]')
    player = recorder.locator("audio")
    player.wait_for(state="visible")
    page.unroute("**/voice/preview")
    assert player.get_attribute("src").startswith("blob:")
    assert page.evaluate("document.querySelector('input[name=voice]').files.length") == 1
    state = player.evaluate(PLAYED)  # the preview really plays (media-src blob: allowed)
    assert state["error"] is None and state["time"] > 0.5
    [body] = heard
    return body


def test_a_recording_is_previewed_disguised_sent_and_played_by_the_handler(
        speaking_page, new_page, portal):
    citizen = speaking_page()
    sizes = Recorder(citizen)
    fill_report(citizen, "Am spus totul în mesajul vocal.")
    assert citizen.locator("#recorder").is_visible()
    total = sum(size for _, size in sizes.sizes())
    assert total < BUDGET_BYTES, f"the report page with its recorder costs {total} bytes"
    assert any(what.endswith("/static/js/voice.js") for what, _ in sizes.sizes())

    first = _record(citizen)
    assert _pitch(first) == pytest.approx(DISGUISED_F0, rel=0.03)
    citizen.click('#recorder [data-action="again"]')  # re-record: the first one is replaced
    heard = _record(citizen)
    assert _pitch(heard) == pytest.approx(DISGUISED_F0, rel=0.03)
    submitted = send_report(citizen)

    # At follow-up, a voice message alone.
    open_case(citizen, submitted.receipt)
    _record(citizen, 1.5)
    with citizen.expect_response(lambda r: r.url.endswith("/follow-up/message")) as sent:
        citizen.click(MESSAGE_SUBMIT)
    assert sent.value.status == 302
    citizen.wait_for_url(re.compile(r"/follow-up/case\?sent=1$"))

    case_id = db.session.scalar(select(Case.id).where(Case.reference == submitted.reference))
    db.session.close()
    handler = new_page(locale="en-GB")
    sign_in_page(handler, portal.handler)
    handler.goto(f"/staff/cases/{case_id}")
    players = handler.locator("audio[controls]")
    assert players.count() == 2  # the report's voice message and the follow-up's
    state = players.first.evaluate(PLAYED)
    assert state["error"] is None and state["time"] > 0.5
    for source in AUDIO_SRC.findall(handler.content()):
        stored = handler.request.get(source).body()
        assert _pitch(stored) == pytest.approx(DISGUISED_F0, rel=0.03)

"""Voice messages through the real PyAV/FFmpeg: every phone format decodes, the disguise moves
the pitch and the formants by the configured amounts and keeps the duration, the stored file is
Opus in Ogg without the original's tags, and bad, cut-off, too long or too large uploads are
refused with a message (never a 500). The original never reaches the disk: the pipeline runs
in a child process with empty working, home and temporary folders and an audit hook on every
file opened for writing."""
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from app.services.errors import EvidenceRejected
from app.services.intake.voice import (
    WORK_RATE,
    NotVoice,
    VoiceLimits,
    opus_filename,
    prepare_voice,
)
from tests.support import voice

ROOT = Path(__file__).resolve().parent.parent
F0 = 120.0
SECONDS = 3.0


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return voice.vowel(F0, SECONDS, WORK_RATE)


def _shifted(semitones: float) -> float:
    return F0 * 2 ** (semitones / 12)


def _assert_clean_opus(stored: bytes, original: bytes) -> np.ndarray:
    """The stored bytes are one Ogg Opus stream with no tag, and nothing of the original's
    tags; returns its samples."""
    with av.open(io.BytesIO(stored)) as container:
        assert container.format.name == "ogg"
        assert [s.codec_context.name for s in container.streams] == ["opus"]
    samples, codec, container_tags, stream_tags = voice.decode(stored)
    assert codec == "opus" and container_tags == {} and stream_tags == {}
    for tag in voice.TAGS.values():
        assert tag.encode() not in stored
    # No encoder name or version: only the vendor field Ogg Opus requires, reading "ffmpeg".
    assert b"Lavf" not in stored and b"Lavc" not in stored and b"encoder" not in stored
    assert original[:64] not in stored
    return samples


@pytest.mark.parametrize("kind", sorted(voice.CONTAINERS))
def test_every_phone_format_is_disguised_into_clean_opus(speech, kind):
    original = voice.encode(speech, WORK_RATE, kind, voice.TAGS)
    if kind != "amr":  # AMR files have no place for tags
        assert voice.TAGS["title"].encode() in original
    limits = VoiceLimits()
    stored = prepare_voice(original, name=f"recording.{kind}", limits=limits)
    samples = _assert_clean_opus(stored, original)

    assert abs(len(samples) / WORK_RATE - SECONDS) < 0.03 * SECONDS
    assert voice.fundamental(samples, WORK_RATE) == pytest.approx(
        _shifted(limits.pitch_semitones), rel=0.015)
    moved = voice.formants(samples, WORK_RATE)[:2]
    expected = [f * limits.formant_factor for f in voice.formants(speech, WORK_RATE)[:2]]
    assert moved == pytest.approx(expected, rel=0.06)


@pytest.mark.parametrize(("semitones", "formant_factor"), [(5.0, 1.12), (-7.0, 0.85),
                                                            (-2.0, 1.0)])
def test_the_shift_is_the_configured_one(speech, semitones, formant_factor):
    original = voice.encode(speech, WORK_RATE, "wav")
    limits = VoiceLimits(pitch_semitones=semitones, formant_factor=formant_factor)
    samples, *_ = voice.decode(prepare_voice(original, name="a.wav", limits=limits))
    assert voice.fundamental(samples, WORK_RATE) == pytest.approx(_shifted(semitones),
                                                                  rel=0.015)
    first, second = voice.formants(samples, WORK_RATE)[:2]
    source_first, source_second = voice.formants(speech, WORK_RATE)[:2]
    assert first == pytest.approx(source_first * formant_factor, rel=0.07)
    assert second == pytest.approx(source_second * formant_factor, rel=0.07)


def test_undisguised_keeps_the_voice_but_still_drops_the_tags(speech):
    original = voice.encode(speech, WORK_RATE, "mp3", voice.TAGS)
    stored = prepare_voice(original, name="a.mp3", disguised=False, limits=VoiceLimits())
    samples = _assert_clean_opus(stored, original)
    assert voice.fundamental(samples, WORK_RATE) == pytest.approx(F0, rel=0.01)
    assert voice.formants(samples, WORK_RATE)[:2] == pytest.approx(
        voice.formants(speech, WORK_RATE)[:2], rel=0.04)


def test_a_live_browser_recording_without_a_declared_duration_is_accepted(speech):
    original = voice.encode(speech, WORK_RATE, "webm", live=True)
    with av.open(io.BytesIO(original)) as container:
        assert container.duration is None
    samples, *_ = voice.decode(prepare_voice(original, name="voice.webm", limits=VoiceLimits()))
    assert abs(len(samples) / WORK_RATE - SECONDS) < 0.03 * SECONDS


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(out, format="PNG")
    return out.getvalue()


def _unreadable_uploads(speech) -> dict[str, bytes]:
    files = {f"cut.{kind}": voice.encode(speech, WORK_RATE, kind)
             for kind in ("m4a", "mp3", "ogg", "webm", "wav", "amr")}
    files = {name: data[:int(len(data) * 0.7)] for name, data in files.items()}
    return files | {
        "random.mp3": np.random.default_rng(7).bytes(40_000),
        "picture.mp3": _png(),
        "empty.m4a": b"",
        "text.ogg": "Nu este o înregistrare.".encode() * 200,
        # A playlist would make FFmpeg read other files: that demuxer is never opened.
        "playlist.m4a": b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
    }


def test_damaged_cut_off_and_non_audio_uploads_are_refused(app, speech):
    for name, data in _unreadable_uploads(speech).items():
        with app.test_request_context(headers={"Accept-Language": "en"}), \
                pytest.raises(EvidenceRejected) as refused:
            prepare_voice(data, name=name, limits=VoiceLimits())
        assert refused.value.field == "evidence"
        assert str(refused.value) == (
            f"“{name}” could not be played as a sound recording: it may be damaged, cut short "
            "or not a recording at all. Please send it again, or in another format (m4a, mp3, "
            "ogg, webm, wav, amr)."), name


def _tone(seconds: float, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)


def test_too_long_is_refused_from_the_header_and_while_decoding(app):
    limits = VoiceLimits(max_seconds=120)
    declared = voice.encode(_tone(125), 8000, "wav")
    undeclared = voice.encode(_tone(125), 8000, "webm", live=True)
    for name, data in (("long.wav", declared), ("long.webm", undeclared)):
        with app.test_request_context(headers={"Accept-Language": "en"}), \
                pytest.raises(EvidenceRejected) as refused:
            prepare_voice(data, name=name, limits=limits)
        assert str(refused.value) == (
            f"“{name}” lasts longer than 2 minutes, the most a voice message may last. Please "
            "split it into shorter recordings.")
    assert prepare_voice(voice.encode(_tone(119), 8000, "wav"), name="ok.wav", limits=limits)


def test_too_large_is_refused_before_decoding(app):
    limits = VoiceLimits(max_bytes=1024 * 1024)
    large = voice.encode(_tone(70), 8000, "wav")  # 1.07 MiB
    assert len(large) > limits.max_bytes
    with app.test_request_context(headers={"Accept-Language": "ro"}), \
            pytest.raises(EvidenceRejected) as refused:
        prepare_voice(large, name="mare.wav", limits=limits)
    assert str(refused.value) == (
        "„mare.wav” are mai mult de 1 MB, cât poate avea cel mult un mesaj vocal. Vă rugăm să "
        "trimiteți o înregistrare mai scurtă.")


def test_the_limits_and_the_disguise_come_from_the_configuration(app):
    limits = VoiceLimits.from_config(app.config)
    assert limits == VoiceLimits(max_seconds=600, max_bytes=20 * 1024 * 1024,
                                 pitch_semitones=-4.0, formant_factor=0.87)
    assert opus_filename("mesaj.m4a") == "mesaj.opus" and opus_filename(".mp3") == "voice.opus"


CHILD = textwrap.dedent("""
    import json, os, sys, tempfile
    from app.services.intake.voice import VoiceLimits, prepare_voice
    from tests.support import voice

    original = voice.encode(voice.vowel(120, 3.0), 16000, sys.argv[1], voice.TAGS)
    written = []

    def watch(event, args):
        if event == "open":
            path, mode, flags = (list(args) + [None, None])[:3]
            writes = (mode and any(c in str(mode) for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if writes:
                written.append(str(path))
        elif event in ("tempfile.mkstemp", "tempfile.mkdtemp", "os.mkdir", "os.rename"):
            written.append(f"{event} {args}")

    sys.addaudithook(watch)
    if sys.argv[2:] == ["leak"]:  # the control: a pipeline that spools the original
        with tempfile.NamedTemporaryFile() as spool:
            spool.write(original)
    stored = prepare_voice(original, name="x", limits=VoiceLimits())
    print(json.dumps({"written": written, "stored": len(stored)}))
""")


def _run_in_empty_folders(tmp_path, *arguments) -> tuple[dict, dict]:
    folders = {name: tmp_path / name for name in ("tmp", "home", "cwd")}
    for folder in folders.values():
        folder.mkdir()
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT),
                   "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(folders["tmp"]),
                   "TMP": str(folders["tmp"]), "TEMP": str(folders["tmp"]),
                   "HOME": str(folders["home"])}
    result = subprocess.run([sys.executable, "-c", CHILD, *arguments], cwd=folders["cwd"],
                            env=environment, capture_output=True, text=True, timeout=120,
                            check=True)
    return json.loads(result.stdout.strip().splitlines()[-1]), folders


def test_the_watch_sees_a_pipeline_that_spools_to_a_temporary_file(tmp_path):
    report, _ = _run_in_empty_folders(tmp_path, "wav", "leak")
    assert any(str(tmp_path / "tmp") in path for path in report["written"])


@pytest.mark.parametrize("kind", ["m4a", "ogg"])
def test_the_original_is_never_written_to_disk(tmp_path, kind):
    report, folders = _run_in_empty_folders(tmp_path, kind)
    assert report["stored"] > 1000
    assert report["written"] == []
    for name, folder in folders.items():
        assert list(folder.iterdir()) == [], name


def test_a_video_under_an_audio_name_is_left_to_the_ordinary_evidence_path(speech):
    film = voice.webm_film(speech, WORK_RATE)
    with av.open(io.BytesIO(film)) as container:
        assert sorted(s.type for s in container.streams) == ["audio", "video"]
    with pytest.raises(NotVoice):
        prepare_voice(film, name="ecran.webm", limits=VoiceLimits())

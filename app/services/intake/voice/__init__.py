"""Voice messages: a recording checked, disguised and turned into one Opus file, in memory.

- codec      PyAV (FFmpeg) decoding of m4a/AAC, mp3, ogg/opus, webm, wav, AMR to mono
             samples, and the Opus-in-Ogg encoding that is stored, without metadata
- disguise   the pitch and formant shift that keeps a familiar listener from recognising
             the speaker (the signal processing is explained there)

`prepare_voice` is the one entry: bytes of an upload in, bytes of a disguised Opus file out,
or EvidenceRejected with a message the reporter can act on. The original is only ever in
memory (the request keeps uploads in memory, app/__init__.py); the caller encrypts the Opus
bytes and stores them like any evidence file.
"""
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from ...errors import EvidenceRejected
from . import codec
from .disguise import disguise

# Speech is processed and stored at 16 kHz: wideband Opus, every sound of speech kept.
WORK_RATE = 16_000
OPUS_MIMETYPE = "audio/ogg"
DEFAULT_MAX_SECONDS = 10 * 60
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_PITCH_SEMITONES = -4.0
DEFAULT_FORMANT_FACTOR = 0.87
# What a reporter's phone or browser produces; the content decides, not the name.
AUDIO_EXTENSIONS = frozenset({"m4a", "aac", "mp3", "ogg", "oga", "opus", "webm", "wav",
                              "amr", "3gp", "3ga", "flac"})


class NotVoice(Exception):
    """A file with an audio extension that is a video (a webm or 3gp film): the caller keeps
    it as an ordinary evidence file, as it keeps an mp4."""


@dataclass(frozen=True)
class VoiceLimits:
    max_seconds: int = DEFAULT_MAX_SECONDS
    max_bytes: int = DEFAULT_MAX_BYTES
    pitch_semitones: float = DEFAULT_PITCH_SEMITONES
    formant_factor: float = DEFAULT_FORMANT_FACTOR

    @classmethod
    def from_config(cls, config) -> "VoiceLimits":
        return cls(max_seconds=config.get("VOICE_MAX_SECONDS", DEFAULT_MAX_SECONDS),
                   max_bytes=config.get("VOICE_MAX_BYTES", DEFAULT_MAX_BYTES),
                   pitch_semitones=config.get("VOICE_PITCH_SEMITONES", DEFAULT_PITCH_SEMITONES),
                   formant_factor=config.get("VOICE_FORMANT_FACTOR", DEFAULT_FORMANT_FACTOR))


def _unreadable(name: str) -> EvidenceRejected:
    return EvidenceRejected(
        _l("“%(name)s” could not be played as a sound recording: it may be damaged, cut short "
           "or not a recording at all. Please send it again, or in another format (m4a, mp3, "
           "ogg, webm, wav, amr).", name=name),
        field="evidence")


def prepare_voice(data: bytes, *, name: str, disguised: bool = True,
                  limits: VoiceLimits | None = None) -> bytes:
    """The Opus file to store for the recording `data` (an upload named `name`): decoded in
    memory, refused if too large, too long or unreadable, disguised unless `disguised` is
    False (the reporter's explicit choice), re-encoded without any of the original's tags.
    Raises NotVoice for a video."""
    limits = limits or VoiceLimits.from_config(current_app.config)
    if len(data) > limits.max_bytes:
        raise EvidenceRejected(
            _l("“%(name)s” is larger than %(mb)d MB, the most a voice message may have. Please "
               "send a shorter recording.", name=name, mb=limits.max_bytes // (1024 * 1024)),
            field="evidence")
    try:
        decoded = codec.decode(data, rate=WORK_RATE, max_seconds=limits.max_seconds)
    except codec.TooLong as exc:
        raise EvidenceRejected(
            _l("“%(name)s” lasts longer than %(minutes)d minutes, the most a voice message may "
               "last. Please split it into shorter recordings.", name=name,
               minutes=limits.max_seconds // 60),
            field="evidence") from exc
    except codec.UnreadableAudio as exc:
        raise _unreadable(name) from exc
    except codec.CarriesVideo as exc:
        raise NotVoice(name) from exc
    samples = decoded.samples
    if disguised:
        samples = disguise(samples, decoded.rate, semitones=limits.pitch_semitones,
                           formant_factor=limits.formant_factor)
    return codec.encode_opus(samples, decoded.rate)


def preview(data: bytes, *, name: str) -> bytes:
    """The disguised Opus a reporter hears before sending: the processing a stored message
    gets, returned instead of stored (the caller keeps nothing and logs nothing)."""
    try:
        return prepare_voice(data, name=name, disguised=True)
    except NotVoice as exc:
        raise _unreadable(name) from exc


def opus_filename(name: str) -> str:
    """The stored file's name: the upload's, with the extension of what is stored."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or 'voice'}.opus"

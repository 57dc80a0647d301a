"""Audio in and out of memory with PyAV (FFmpeg): any accepted recording decoded to mono
samples, and samples encoded to one stored format, Opus in Ogg, without metadata.

Nothing here touches the disk: the upload is read from a bytes buffer and the Opus file is
written to one. FFmpeg only opens the demuxers listed below, and never a second file or URL
(a playlist or a reference inside a container would otherwise make it read elsewhere).
"""
import io
from dataclasses import dataclass

import av
import numpy as np

from . import integrity

# The demuxers of phone and browser recordings: m4a/AAC (and 3gp), mp3, ogg/opus, webm,
# wav, AMR (narrow and wide band), raw AAC and FLAC.
DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,mp3,ogg,matroska,webm,wav,amr,amrnb,amrwb,aac,flac"
OPUS_BITRATE = 32_000
# Opus encodes at 8, 12, 16, 24 or 48 kHz; 16 kHz ("wideband") keeps speech fully clear.
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


class UnreadableAudio(Exception):
    """The bytes are not a recording FFmpeg can decode (not audio, damaged or cut short)."""


class CarriesVideo(Exception):
    """The file has moving pictures: it is a video, not a voice recording."""


class TooLong(Exception):
    def __init__(self, seconds: float):
        super().__init__(f"{seconds:.0f} s")
        self.seconds = seconds


@dataclass
class Decoded:
    samples: np.ndarray  # mono float32 in [-1, 1]
    rate: int


def _no_second_file(url, flags, options):
    raise UnreadableAudio("the recording refers to another file")


def _open(data: bytes):
    try:
        return av.open(io.BytesIO(data), mode="r", metadata_errors="ignore",
                       io_open=_no_second_file,
                       options={"format_whitelist": DEMUXERS, "protocol_whitelist": "none"})
    except (av.FFmpegError, OSError, ValueError, UnicodeError) as exc:
        raise UnreadableAudio(str(exc)) from exc


def decode(data: bytes, *, rate: int, max_seconds: float) -> Decoded:
    """The first audio stream of `data`, mixed to mono and resampled to `rate`.
    Raises CarriesVideo for a video, TooLong as soon as more than `max_seconds` have been decoded (or the header says so)
    and UnreadableAudio for anything that is not a whole, decodable recording (see integrity
    for how a file cut short is told from a short one)."""
    container = _open(data)
    try:
        if any(s.type == "video" and not s.disposition & av.stream.Disposition.attached_pic
               for s in container.streams):
            raise CarriesVideo()  # (a cover picture in an m4a or mp3 is no video)
        stream = next((s for s in container.streams if s.type == "audio"), None)
        if stream is None:
            raise UnreadableAudio("no audio stream")
        announced = container.duration / av.time_base if container.duration else None
        demuxer = container.format.name
        if announced and announced > max_seconds + 1:
            raise TooLong(announced)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        limit = int((max_seconds + 1) * rate)
        chunks, total = [], 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if total > limit:
                    raise TooLong(total / rate)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise UnreadableAudio(str(exc)) from exc
    finally:
        container.close()
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    del chunks
    if len(samples) < rate // 10:
        raise UnreadableAudio("no sound decoded")
    if integrity.cut_short(data, demuxer, announced, len(samples) / rate):
        raise UnreadableAudio("less than its container declares")
    if not np.all(np.isfinite(samples)):
        raise UnreadableAudio("not a number in the samples")
    return Decoded(samples=np.clip(samples, -1.0, 1.0, out=samples), rate=rate)


def encode_opus(samples: np.ndarray, rate: int) -> bytes:
    """Ogg Opus of mono float32 `samples`: no title, artist, date or encoder tag. In bit-exact
    mode FFmpeg writes neither its "encoder" tag nor its version, only the vendor "ffmpeg"."""
    if rate not in OPUS_RATES:
        raise ValueError(f"Opus cannot encode at {rate} Hz")
    target = io.BytesIO()
    with av.open(target, mode="w", format="ogg", options={"fflags": "+bitexact"}) as container:
        container.flags |= av.container.Flags.bitexact.value  # type: ignore[operator]  # stubs: .value is an int at run time
        stream = container.add_stream("libopus", rate=rate, layout="mono")
        stream.bit_rate = OPUS_BITRATE
        stream.codec_context.flags |= av.codec.context.Flags.bitexact.value
        stream.codec_context.options = {"application": "voip"}
        frame_samples = rate // 50  # 20 ms, Opus' usual frame
        for start in range(0, len(samples), frame_samples * 50):
            piece = np.ascontiguousarray(samples[start:start + frame_samples * 50])
            frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1), format="flt",
                                               layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return target.getvalue()

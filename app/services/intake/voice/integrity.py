"""Whether a recording arrived whole: what its container declares, against what was decoded.

FFmpeg decodes a cut-off file as far as it goes and says nothing, so an upload broken off
half-way would be stored as half a message, which nobody notices until it is needed. Each
container that declares its own length is held to it:

- m4a/mp4 and webm state their duration in the header (a live browser recording may not);
- mp3 states it only with a Xing, Info or VBRI frame (otherwise FFmpeg merely guesses from the
  file's size, and a guess cannot convict a file);
- wav states the byte length of its samples (FFmpeg trims its duration to what is there);
- ogg pages each state their length, and the last page of a finished stream is marked "end
  of stream";
- AMR declares nothing, but its decoder refuses a frame cut in the middle.
"""
import struct

# Decoded audio may fall this far short of the declared duration (codec delay and padding).
TOLERANCE_SECONDS = 0.1
TOLERANCE_SHARE = 0.02
_OGG_END_OF_STREAM = 0x04
_WAV_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # written by recorders that stream and never go back


def _mp3_declares_length(data: bytes) -> bool:
    start = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = data[6:10]
        start = 10 + (size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3])
    head = data[start:start + 4096]
    return any(tag in head for tag in (b"Xing", b"Info", b"VBRI"))


def _wav_cut_short(data: bytes) -> bool:
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return False
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = data[offset:offset + 4], struct.unpack("<I", data[offset + 4:offset + 8])[0]
        if chunk == b"data":
            return size not in _WAV_UNKNOWN_SIZES and offset + 8 + size > len(data)
        offset += 8 + size + (size & 1)
    return True  # the samples never began


def _ogg_cut_short(data: bytes) -> bool:
    offset, last_flags = 0, None
    while offset < len(data):
        if data[offset:offset + 4] != b"OggS" or offset + 27 > len(data):
            return True
        segments = data[offset + 26]
        table = data[offset + 27:offset + 27 + segments]
        end = offset + 27 + segments + sum(table)
        if len(table) < segments or end > len(data):
            return True  # the last page was broken off
        last_flags, offset = data[offset + 5], end
    return last_flags is None or not last_flags & _OGG_END_OF_STREAM


def cut_short(data: bytes, demuxer: str, declared_seconds: float | None,
              decoded_seconds: float) -> bool:
    """True when `data` (read by the FFmpeg demuxer named `demuxer`) is visibly less than
    its container says it is."""
    if demuxer == "wav":
        return _wav_cut_short(data)
    if demuxer == "ogg":
        return _ogg_cut_short(data)
    trusts_header = demuxer.startswith(("mov", "matroska")) or (
        demuxer == "mp3" and _mp3_declares_length(data))
    if not trusts_header or not declared_seconds:
        return False
    shortfall = declared_seconds - decoded_seconds
    return shortfall > TOLERANCE_SECONDS + TOLERANCE_SHARE * declared_seconds

"""A ZIP written as it streams: each file's plaintext goes from its decrypting iterator into
the archive and out to the client chunk by chunk, never to disk and never whole in memory.
zipfile writes to a stream it cannot seek with data descriptors after each member."""
import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime

from ..services.localtime import LOCAL_ZONE


class _Sink(io.RawIOBase):
    """Collects what zipfile writes until the generator hands it out; not seekable."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def stream_zip(members: Iterable[tuple[str, Iterable[bytes]]]) -> Iterator[bytes]:
    stamp = datetime.now(LOCAL_ZONE).timetuple()[:6]
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, chunks in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as member:
                for chunk in chunks:
                    member.write(chunk)
                    if data := sink.take():
                        yield data
            yield sink.take()
    yield sink.take()

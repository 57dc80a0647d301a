"""The backup file format: its header of sealed archive keys, the encrypted tar stream (written
through a pipe and a thread, read back as chunks) and rows as portable JSON values.

File layout (format 1):

    MAGIC | backup id (16 random bytes) | number of sealed keys (1 byte)
    | for each: length (2 bytes, big-endian) | archive key sealed to a recovery public key
    | the tar archive, encrypted by files.encrypt_stream under the archive key

The tar archive, streamed (the plaintext never touches the disk, and memory stays bounded):

    manifest.json                  format, alembic revision, time, tables in dependency order
    tables/<table>/<part>.jsonl    the rows, one JSON object per line (bytes in base64, times
                                   in ISO 8601, enums by value), parts of about PART_BYTES
    files/<storage name>           the evidence files as stored (already encrypted)
"""
import base64
import enum
import io
import os
import threading
from collections.abc import Iterator
from datetime import date, datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import TypeDecorator

from ...crypto import DecryptionError, keys, seal
from ...crypto import files as file_crypto
from ..errors import DomainError

MAGIC = b"AVZBAK1\n"
FORMAT = 1
ID_BYTES = 16
PART_BYTES = 4 * 1024 * 1024


class BackupRefused(DomainError):
    pass


def stream_id(backup_id: bytes) -> str:
    return f"backup-{backup_id.hex()}"


def key_label(backup_id: bytes) -> str:
    return f"backup-key:{backup_id.hex()}"


def encode_value(value):
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _python_type(column):
    kind = column.type
    if isinstance(kind, TypeDecorator):  # e.g. UTCDateTime: its python_type is `object`
        kind = kind.impl_instance
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def decoder(column):
    kind = _python_type(column)
    if kind is bytes:
        return base64.b64decode
    if kind is datetime:
        return datetime.fromisoformat
    if kind is date:
        return date.fromisoformat
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind
    return None


# --- the encrypted stream -----------------------------------------------------------------------

class EncryptingPipe:
    """A file to write the tar stream into; a thread encrypts what comes out of the pipe into
    `target` with files.encrypt_stream. Nothing in clear is written to the disk."""

    def __init__(self, target, key: bytes, stream_id: str):
        read_end, write_end = os.pipe()
        self._reader = os.fdopen(read_end, "rb", buffering=file_crypto.CHUNK_BYTES)
        self.writer = os.fdopen(write_end, "wb")
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encrypt, args=(target, key, stream_id),
                                        name="backup-encrypt", daemon=True)
        self._thread.start()

    def _encrypt(self, target, key: bytes, stream_id: str) -> None:
        try:
            file_crypto.encrypt_stream(self._reader, target, key, stream_id)
        except BaseException as error:  # re-raised in the writing thread
            self._error = error
        finally:
            self._reader.close()  # a writer still writing gets BrokenPipeError, not a hang

    def close(self) -> None:
        try:
            self.writer.close()  # end of stream: the last chunk is sealed as final
        except BrokenPipeError:
            pass
        self._thread.join()
        if self._error is not None:
            raise self._error


class ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks (the decrypted archive)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks, self._pending = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size], self._pending = self._pending[:size], self._pending[size:]
        return size


def read_exactly(source, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise BackupRefused(_l("This file is not an Avertizor backup, or it is damaged."))
    return data


def open_header(source, recovery: X25519PrivateKey) -> tuple[bytes, bytes]:
    """(backup id, archive key), if the recovery code opens one of the sealed keys."""
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupRefused(_l("This file is not an Avertizor backup, or it is damaged."))
    backup_id = read_exactly(source, ID_BYTES)
    count = read_exactly(source, 1)[0]
    sealed_keys = [read_exactly(source, int.from_bytes(read_exactly(source, 2), "big"))
                   for _ in range(count)]
    for sealed in sealed_keys:
        try:
            return backup_id, seal.open_sealed(sealed, recovery, key_label(backup_id))
        except DecryptionError:
            continue
    raise BackupRefused(_l("This recovery code does not open this backup."))


def header(backup_id: bytes, archive_key: bytes, recipients: list[bytes]) -> bytes:
    parts = [MAGIC, backup_id, bytes([len(recipients)])]
    for public_key in recipients:
        sealed = seal.seal(archive_key, keys.load_public(public_key), key_label(backup_id))
        parts += [len(sealed).to_bytes(2, "big"), sealed]
    return b"".join(parts)

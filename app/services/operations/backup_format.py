"""The backup file format: its header of sealed archive keys and rows as portable JSON values;
the archive's encryption is app.crypto.stream.

File layout (format 1):

    MAGIC | backup id (16 random bytes) | number of sealed keys (1 byte)
    | for each: length (2 bytes, big-endian) | archive key sealed to a recovery public key
    | the tar archive, encrypted by crypto.stream under the archive key

The tar archive, streamed (the plaintext never touches the disk, and memory stays bounded):

    manifest.json                  format, alembic revision, time, tables in dependency order
    tables/<table>/<part>.jsonl    the rows, one JSON object per line (bytes in base64, times
                                   in ISO 8601, enums by value), parts of about PART_BYTES
    files/<storage name>           the evidence files as stored (already encrypted)
"""
import base64
import enum
from datetime import date, datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import TypeDecorator

from ...crypto import keys, stream
from ..errors import DomainError

MAGIC = b"AVZBAK1\n"
FORMAT = 1
ID_BYTES = 16
PART_BYTES = 4 * 1024 * 1024


class BackupRefused(DomainError):
    pass


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
    archive_key = stream.open_archive_key(sealed_keys, backup_id, recovery)
    if archive_key is None:
        raise BackupRefused(_l("This recovery code does not open this backup."))
    return backup_id, archive_key


def header(backup_id: bytes, archive_key: bytes, recipients: list[bytes]) -> bytes:
    parts = [MAGIC, backup_id, bytes([len(recipients)])]
    to = [keys.load_public(public_key) for public_key in recipients]
    for sealed in stream.seal_archive_key(archive_key, backup_id, to=to):
        parts += [len(sealed).to_bytes(2, "big"), sealed]
    return b"".join(parts)

"""Evidence files: a random key per file, content in 1 MiB chunks (bounded memory).

Layout on disk: version byte, then for each chunk: nonce | ciphertext | tag. The associated data
``file:<uuid>:chunk:<n>:<final>`` fixes each chunk's position and marks the last one, so chunks
cannot be reordered, dropped or cut off at the end without detection.
"""
from collections.abc import Iterator
from typing import BinaryIO

from . import DecryptionError, aead

VERSION = b"\x01"
CHUNK_BYTES = 1024 * 1024
_SEALED_CHUNK_BYTES = aead.NONCE_BYTES + CHUNK_BYTES + 16


def _aad(file_uuid: str, index: int, final: bool) -> str:
    return f"file:{file_uuid}:chunk:{index}:{int(final)}"


def _encrypt_chunk(key: bytes, chunk: bytes, aad: str) -> bytes:
    # aead.encrypt prefixes its own version byte; the file carries one version for all chunks.
    return aead.encrypt(key, chunk, aad)[1:]


def encrypt_stream(source: BinaryIO, target: BinaryIO, file_key: bytes, file_uuid: str) -> int:
    """Encrypt source into target; returns the plaintext size."""
    target.write(VERSION)
    size, index = 0, 0
    current = source.read(CHUNK_BYTES)
    while True:
        following = source.read(CHUNK_BYTES) if len(current) == CHUNK_BYTES else b""
        final = not following
        target.write(_encrypt_chunk(file_key, current, _aad(file_uuid, index, final)))
        size += len(current)
        if final:
            return size
        current, index = following, index + 1


def decrypt_stream(source: BinaryIO, file_key: bytes, file_uuid: str) -> Iterator[bytes]:
    """Plaintext chunks, one at a time. Raises DecryptionError on any tampering."""
    if source.read(1) != VERSION:
        raise DecryptionError("unknown file format")
    index = 0
    current = source.read(_SEALED_CHUNK_BYTES)
    while True:
        following = source.read(_SEALED_CHUNK_BYTES)
        final = not following
        yield aead.decrypt(file_key, VERSION + current, _aad(file_uuid, index, final))
        if final:
            return
        current, index = following, index + 1


def wrap_file_key(case_key: bytes, file_uuid: str, file_key: bytes) -> bytes:
    return aead.encrypt(case_key, file_key, f"file:{file_uuid}:key")


def unwrap_file_key(case_key: bytes, file_uuid: str, blob: bytes) -> bytes:
    return aead.decrypt(case_key, blob, f"file:{file_uuid}:key")


def encrypt_meta(case_key: bytes, file_uuid: str, meta: bytes) -> bytes:
    return aead.encrypt(case_key, meta, f"file:{file_uuid}:meta")


def decrypt_meta(case_key: bytes, file_uuid: str, blob: bytes) -> bytes:
    return aead.decrypt(case_key, blob, f"file:{file_uuid}:meta")

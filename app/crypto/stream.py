"""The backup archive's encryption: a random archive key, sealed to recovery public keys, and
the archive encrypted under it as a stream (1 MiB chunks, see files.py).

Writing goes through a pipe and a thread (EncryptingPipe), so the tar writer streams straight
into the cipher and no plaintext touches the disk; reading yields a file object over the
decrypted chunks (open_archive). Memory stays bounded either way.
"""
import io
import os
import threading
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from . import DecryptionError, aead, seal
from . import files as file_crypto

CHUNK_BYTES = file_crypto.CHUNK_BYTES


def _stream_id(backup_id: bytes) -> str:
    return f"backup-{backup_id.hex()}"


def _key_label(backup_id: bytes) -> str:
    return f"backup-key:{backup_id.hex()}"


def new_archive_key() -> bytes:
    return aead.new_key()


def seal_archive_key(archive_key: bytes, backup_id: bytes,
                     to: list[X25519PublicKey]) -> list[bytes]:
    """The archive key sealed to each recovery public key, in order."""
    label = _key_label(backup_id)
    return [seal.seal(archive_key, public_key, label) for public_key in to]


def open_archive_key(sealed_keys: list[bytes], backup_id: bytes,
                     recovery: X25519PrivateKey) -> bytes | None:
    """The archive key, if the recovery key opens one of the sealed copies; else None."""
    for sealed in sealed_keys:
        try:
            return seal.open_sealed(sealed, recovery, _key_label(backup_id))
        except DecryptionError:
            continue
    return None


class EncryptingPipe:
    """A file to write the archive into; a thread encrypts what comes out of the pipe into
    `target`. Nothing in clear is written to the disk."""

    def __init__(self, target: BinaryIO, archive_key: bytes, backup_id: bytes):
        read_end, write_end = os.pipe()
        self._reader = os.fdopen(read_end, "rb", buffering=CHUNK_BYTES)
        self.writer = os.fdopen(write_end, "wb")
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._encrypt, args=(target, archive_key, _stream_id(backup_id)),
            name="backup-encrypt", daemon=True)
        self._thread.start()

    def _encrypt(self, target: BinaryIO, key: bytes, stream_id: str) -> None:
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


class _ChunkReader(io.RawIOBase):
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


def open_archive(source: BinaryIO, archive_key: bytes, backup_id: bytes) -> io.RawIOBase:
    """The decrypted archive as a file; reading raises DecryptionError on any tampering."""
    return _ChunkReader(file_crypto.decrypt_stream(source, archive_key, _stream_id(backup_id)))

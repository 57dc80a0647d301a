"""The cipher layer, tested with the real primitives: round trips, tampering, misplacement."""
import io

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.crypto import DecryptionError, aead, envelope, files, keys, seal
from app.crypto.kdf import KdfParams, derive

CHEAP = KdfParams(memory_kib=1024, iterations=1)


def flip(blob: bytes, index: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1:]


def test_aead_round_trip_and_every_byte_is_authenticated():
    key = aead.new_key()
    blob = aead.encrypt(key, b"mita la urbanism", "case:1:report")
    assert aead.decrypt(key, blob, "case:1:report") == b"mita la urbanism"
    assert blob[:1] == aead.VERSION and b"mita" not in blob
    for index in range(len(blob)):
        with pytest.raises(DecryptionError):
            aead.decrypt(key, flip(blob, index), "case:1:report")


def test_aead_refuses_other_place_other_key_and_truncation():
    key = aead.new_key()
    blob = aead.encrypt(key, b"secret", "case:1:report")
    with pytest.raises(DecryptionError):
        aead.decrypt(key, blob, "case:2:report")
    with pytest.raises(DecryptionError):
        aead.decrypt(key, blob, "case:1:identity")
    with pytest.raises(DecryptionError):
        aead.decrypt(aead.new_key(), blob, "case:1:report")
    with pytest.raises(DecryptionError):
        aead.decrypt(key, blob[:-1], "case:1:report")
    with pytest.raises(DecryptionError):
        aead.decrypt(key, b"", "case:1:report")


def test_nonces_are_fresh():
    key = aead.new_key()
    assert aead.encrypt(key, b"x", "a") != aead.encrypt(key, b"x", "a")


def test_seal_opens_only_for_its_recipient_and_label():
    alice, bob = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    blob = seal.seal(b"case key", alice.public_key(), "case-key:abc")
    assert seal.open_sealed(blob, alice, "case-key:abc") == b"case key"
    with pytest.raises(DecryptionError):
        seal.open_sealed(blob, bob, "case-key:abc")
    with pytest.raises(DecryptionError):
        seal.open_sealed(blob, alice, "case-key:other")
    for index in (0, 5, 40, len(blob) - 1):
        with pytest.raises(DecryptionError):
            seal.open_sealed(flip(blob, index), alice, "case-key:abc")


def test_kdf_is_deterministic_split_and_parameterised():
    salt = keys.new_salt()
    first = derive("1234567812345678", salt, CHEAP, purpose="receipt")
    again = derive("1234567812345678", salt, CHEAP, purpose="receipt")
    assert first == again
    assert first.public_part != first.key
    assert derive("1234567812345678", salt, CHEAP, purpose="password") != first
    assert derive("1234567812345679", salt, CHEAP, purpose="receipt") != first
    assert derive("1234567812345678", keys.new_salt(), CHEAP, purpose="receipt") != first
    stronger = KdfParams(memory_kib=2048, iterations=2)
    assert derive("1234567812345678", salt, stronger, purpose="receipt") != first
    assert KdfParams.decode(stronger.encode()) == stronger
    assert stronger.encode() == "argon2id$m=2048,t=2,p=1"


def test_password_locked_key_unlocks_only_with_the_password():
    locked = keys.PasswordLockedKey.create("correct horse battery", CHEAP)
    fields = (locked.public_key, locked.wrapped_private_key, locked.verifier, locked.salt,
              locked.kdf_params)
    private = keys.PasswordLockedKey.unlock("correct horse battery", *fields)
    assert seal.public_bytes(private.public_key()) == locked.public_key
    assert keys.PasswordLockedKey.unlock("wrong horse battery", *fields) is None


def test_recovery_code_round_trip_and_rejects_garbage():
    private = X25519PrivateKey.generate()
    code = keys.recovery_code(private)
    restored = keys.private_key_from_recovery_code(code.lower().replace("-", " "))
    assert keys.private_bytes(restored) == keys.private_bytes(private)
    with pytest.raises(ValueError):
        keys.private_key_from_recovery_code("ABCD-EFGH")


@pytest.mark.parametrize("size", [0, 1, files.CHUNK_BYTES - 1, files.CHUNK_BYTES,
                                  files.CHUNK_BYTES + 1, 3 * files.CHUNK_BYTES + 5])
def test_file_stream_round_trip(size):
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    key, target = aead.new_key(), io.BytesIO()
    assert files.encrypt_stream(io.BytesIO(data), target, key, "f1") == size
    target.seek(0)
    assert b"".join(files.decrypt_stream(target, key, "f1")) == data


def _encrypted_chunks(size: int) -> tuple[bytes, bytes]:
    key, target = aead.new_key(), io.BytesIO()
    files.encrypt_stream(io.BytesIO(b"a" * size), target, key, "f1")
    return key, target.getvalue()


def test_file_truncated_at_a_chunk_boundary_is_detected():
    key, blob = _encrypted_chunks(2 * files.CHUNK_BYTES + 10)
    sealed_chunk = aead.NONCE_BYTES + files.CHUNK_BYTES + 16
    truncated = blob[: 1 + 2 * sealed_chunk]  # the last chunk removed
    with pytest.raises(DecryptionError):
        b"".join(files.decrypt_stream(io.BytesIO(truncated), key, "f1"))


def test_file_chunks_reordered_or_moved_are_detected():
    key, blob = _encrypted_chunks(2 * files.CHUNK_BYTES)
    sealed_chunk = aead.NONCE_BYTES + files.CHUNK_BYTES + 16
    first, second = blob[1:1 + sealed_chunk], blob[1 + sealed_chunk:]
    with pytest.raises(DecryptionError):
        b"".join(files.decrypt_stream(io.BytesIO(blob[:1] + second + first), key, "f1"))
    with pytest.raises(DecryptionError):
        b"".join(files.decrypt_stream(io.BytesIO(blob), key, "another-file"))
    with pytest.raises(DecryptionError):
        b"".join(files.decrypt_stream(io.BytesIO(flip(blob, 100)), key, "f1"))


def test_case_key_wraps_are_bound_to_their_case():
    handler = X25519PrivateKey.generate()
    to = [envelope.Recipient(1, handler.public_key())]
    [(_, sealed)] = envelope.seal_case_key(b"k" * 32, "case-a", to=to)
    assert envelope.open_case_key(sealed, "case-a", handler) == b"k" * 32
    with pytest.raises(DecryptionError):
        envelope.open_case_key(sealed, "case-b", handler)
    with pytest.raises(DecryptionError):
        envelope.open_identity_key(sealed, "case-a", handler)

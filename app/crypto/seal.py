"""Sealing to an X25519 public key: only the holder of the private key can open it.

ephemeral X25519 -> HKDF-SHA256 (info binds the label and both public keys) -> AES-256-GCM.
Output: version | ephemeral public key | nonce | ciphertext.
"""
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from . import DecryptionError, aead

VERSION = b"\x01"
PUBLIC_BYTES = 32


def public_bytes(key: X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _wrapping_key(shared: bytes, ephemeral: bytes, recipient: bytes, label: str) -> bytes:
    info = b"avertizor-seal-v1|" + label.encode() + b"|" + ephemeral + recipient
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)


def seal(plaintext: bytes, to: X25519PublicKey, label: str) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = public_bytes(ephemeral.public_key())
    recipient = public_bytes(to)
    key = _wrapping_key(ephemeral.exchange(to), ephemeral_public, recipient, label)
    return VERSION + ephemeral_public + aead.encrypt(key, plaintext, label)


def open_sealed(blob: bytes, private_key: X25519PrivateKey, label: str) -> bytes:
    if len(blob) < 1 + PUBLIC_BYTES or blob[:1] != VERSION:
        raise DecryptionError("unknown sealed format")
    ephemeral_public = blob[1 : 1 + PUBLIC_BYTES]
    recipient = public_bytes(private_key.public_key())
    try:
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    except ValueError as exc:
        raise DecryptionError("invalid ephemeral key") from exc
    key = _wrapping_key(shared, ephemeral_public, recipient, label)
    return aead.decrypt(key, blob[1 + PUBLIC_BYTES :], label)

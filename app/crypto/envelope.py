"""The case envelope: one random key per case, sealed to each person allowed to read it.

Associated data names the exact place of every ciphertext, so a blob copied into another row
or another field no longer decrypts.
"""
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from . import aead, seal


@dataclass(frozen=True)
class Recipient:
    """Someone a case key is sealed to: a staff member (staff_id) or the recovery key (None)."""

    staff_id: int | None
    public_key: X25519PublicKey


def _key_label(kind: str, case_uuid: str) -> str:
    return f"{kind}-key:{case_uuid}"


def seal_key(key: bytes, kind: str, case_uuid: str, to: list[Recipient]):
    """Seal a case or identity key to each recipient: yields (recipient, sealed blob)."""
    label = _key_label(kind, case_uuid)
    return [(recipient, seal.seal(key, recipient.public_key, label)) for recipient in to]


def open_key(blob: bytes, kind: str, case_uuid: str, private_key: X25519PrivateKey) -> bytes:
    return seal.open_sealed(blob, private_key, _key_label(kind, case_uuid))


def encrypt_field(key: bytes, case_uuid: str, field: str, plaintext: bytes) -> bytes:
    return aead.encrypt(key, plaintext, f"case:{case_uuid}:{field}")


def decrypt_field(key: bytes, case_uuid: str, field: str, blob: bytes | None) -> bytes:
    if blob is None:  # erased by retention, together with every key that could open it
        raise ValueError(f"case {case_uuid}: its {field} was purged")
    return aead.decrypt(key, blob, f"case:{case_uuid}:{field}")


def wrap_for_receipt(case_key: bytes, case_uuid: str, receipt_key: bytes) -> bytes:
    return aead.encrypt(receipt_key, case_key, f"receipt:{case_uuid}")


def unwrap_with_receipt(blob: bytes, case_uuid: str, receipt_key: bytes) -> bytes:
    return aead.decrypt(receipt_key, blob, f"receipt:{case_uuid}")


def encrypt_message(case_key: bytes, message_uuid: str, body: bytes) -> bytes:
    return aead.encrypt(case_key, body, f"message:{message_uuid}:body")


def decrypt_message(case_key: bytes, message_uuid: str, blob: bytes) -> bytes:
    return aead.decrypt(case_key, blob, f"message:{message_uuid}:body")

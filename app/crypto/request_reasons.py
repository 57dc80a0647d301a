"""The reasons of an identity request (the requester's, and the custodian's decision).

They may quote the report, so they are never stored in clear: a random key per request
encrypts them (AES-256-GCM, associated data naming the request and the field), and that key is
sealed (X25519) to each reader: the requesting handler, the custodians who hold the case's
identity key, and the institution's recovery key. Sealing needs public keys only, so the
requester (who holds neither the identity key nor the custodians' keys) can file a request, and
a custodian (who does not hold the case key) can read it. A copy of the database and the
configuration opens none of them.

The sealed keys are stored as JSON: {"<staff id>" | "recovery": base64(sealed key)}.
"""
import base64
import json

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from . import DecryptionError, aead, seal
from .envelope import Recipient

RECOVERY = "recovery"
REASON, DECISION_REASON = "reason", "decision_reason"


def _key_label(request_id: int) -> str:
    return f"identity-request-key:{request_id}"


def _field_label(request_id: int, field: str) -> str:
    return f"identity-request:{request_id}:{field}"


def new_key() -> bytes:
    return aead.new_key()


def _reader(staff_id: int | None) -> str:
    return RECOVERY if staff_id is None else str(staff_id)


def seal_request_key(key: bytes, request_id: int, to: list[Recipient]) -> str:
    """The request's key sealed to each recipient, as the JSON stored in `reader_keys`."""
    label = _key_label(request_id)
    return json.dumps({_reader(recipient.staff_id):
                       base64.b64encode(seal.seal(key, recipient.public_key, label)).decode()
                       for recipient in to}, sort_keys=True)


def open_request_key(sealed_keys: str | None, request_id: int, staff_id: int | None,
                     private_key: X25519PrivateKey) -> bytes | None:
    """The request's key for this reader (staff_id None: the recovery key), or None if it was
    not sealed to them."""
    try:
        blob = json.loads(sealed_keys or "{}").get(_reader(staff_id))
    except ValueError:
        return None
    if blob is None:
        return None
    try:
        return seal.open_sealed(base64.b64decode(blob), private_key, _key_label(request_id))
    except (ValueError, DecryptionError):
        return None


def seal_reason(key: bytes, request_id: int, field: str, text: str) -> bytes:
    return aead.encrypt(key, text.encode(), _field_label(request_id, field))


def open_reason(key: bytes, request_id: int, field: str, blob: bytes | None) -> str | None:
    if blob is None:
        return None
    try:
        return aead.decrypt(key, bytes(blob), _field_label(request_id, field)).decode()
    except DecryptionError:
        return None

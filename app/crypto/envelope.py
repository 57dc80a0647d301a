"""The case envelope: one random key per case, sealed to each person allowed to read it.

Every function names what it seals and, for keys, to whom: `seal_case_key(key, uuid,
to=staff_readers(handlers) + [recovery_reader(institution)])`. Associated data names the exact
place of every ciphertext, so a blob copied into another row or another field no longer
decrypts; the labels are built here and nowhere else.
"""
import json
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from . import aead, seal
from .keys import load_public


@dataclass(frozen=True)
class Recipient:
    """Someone a key is sealed to: a staff member (staff_id) or the recovery key (None)."""

    staff_id: int | None
    public_key: X25519PublicKey


def staff_readers(members: Iterable) -> list[Recipient]:
    """Staff members (anything with `id` and raw `public_key`) as recipients."""
    return [Recipient(member.id, load_public(member.public_key)) for member in members]


def recovery_reader(institution) -> Recipient:
    """The institution's offline recovery key (its raw `recovery_public_key`)."""
    return Recipient(None, load_public(institution.recovery_public_key))


# --- the case key and the identity key, sealed to readers ---------------------------------------

CASE_KEY, IDENTITY_KEY = "case", "identity"


def _key_label(kind: str, case_uuid: str) -> str:
    return f"{kind}-key:{case_uuid}"


def _seal_key(key: bytes, kind: str, case_uuid: str,
              to: list[Recipient]) -> list[tuple[Recipient, bytes]]:
    label = _key_label(kind, case_uuid)
    return [(recipient, seal.seal(key, recipient.public_key, label)) for recipient in to]


def seal_case_key(key: bytes, case_uuid: str,
                  to: list[Recipient]) -> list[tuple[Recipient, bytes]]:
    """The case key sealed to each recipient: (recipient, sealed blob) pairs."""
    return _seal_key(key, CASE_KEY, case_uuid, to)


def seal_identity_key(key: bytes, case_uuid: str,
                      to: list[Recipient]) -> list[tuple[Recipient, bytes]]:
    return _seal_key(key, IDENTITY_KEY, case_uuid, to)


def open_case_key(blob: bytes, case_uuid: str, private_key: X25519PrivateKey) -> bytes:
    return seal.open_sealed(blob, private_key, _key_label(CASE_KEY, case_uuid))


def open_identity_key(blob: bytes, case_uuid: str, private_key: X25519PrivateKey) -> bytes:
    return seal.open_sealed(blob, private_key, _key_label(IDENTITY_KEY, case_uuid))


def wrap_for_receipt(case_key: bytes, case_uuid: str, receipt_key: bytes) -> bytes:
    return aead.encrypt(receipt_key, case_key, f"receipt:{case_uuid}")


def unwrap_with_receipt(blob: bytes, case_uuid: str, receipt_key: bytes) -> bytes:
    return aead.decrypt(receipt_key, blob, f"receipt:{case_uuid}")


# --- what the keys encrypt ----------------------------------------------------------------------

def _field(case_uuid: str, name: str) -> str:
    return f"case:{case_uuid}:{name}"


def _json(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def seal_report(case_key: bytes, case_uuid: str, content: dict) -> bytes:
    """The report (`Case.content`) as JSON under the case key."""
    return aead.encrypt(case_key, _json(content), _field(case_uuid, "report"))


def open_report(case_key: bytes, case_uuid: str, blob: bytes | None) -> dict:
    if blob is None:  # erased by retention, together with every key that could open it
        raise ValueError(f"case {case_uuid}: its report was purged")
    return json.loads(aead.decrypt(case_key, blob, _field(case_uuid, "report")))


def seal_identity(identity_key: bytes, case_uuid: str, identity: dict) -> bytes:
    """The reporter's identity (`Case.identity`) as JSON under its own key."""
    return aead.encrypt(identity_key, _json(identity), _field(case_uuid, "identity"))


def open_identity(identity_key: bytes, case_uuid: str, blob: bytes) -> dict:
    return json.loads(aead.decrypt(identity_key, blob, _field(case_uuid, "identity")))


def seal_notify_address(case_key: bytes, case_uuid: str, address: str) -> bytes:
    """The reporter's address for notices (`Case.notify`) under the case key."""
    return aead.encrypt(case_key, address.encode(), _field(case_uuid, "notify"))


def open_notify_address(case_key: bytes, case_uuid: str, blob: bytes) -> str:
    return aead.decrypt(case_key, blob, _field(case_uuid, "notify")).decode()


def seal_audit_reason(case_key: bytes, case_uuid: str, reason: str) -> bytes:
    """A reason staff typed about a case, kept in the audit log under the case key."""
    return aead.encrypt(case_key, reason.encode(), _field(case_uuid, "audit-reason"))


def open_audit_reason(case_key: bytes, case_uuid: str, blob: bytes) -> str:
    return aead.decrypt(case_key, blob, _field(case_uuid, "audit-reason")).decode()


def seal_message(case_key: bytes, message_uuid: str, body: str) -> bytes:
    return aead.encrypt(case_key, body.encode(), f"message:{message_uuid}:body")


def open_message(case_key: bytes, message_uuid: str, blob: bytes) -> str:
    return aead.decrypt(case_key, blob, f"message:{message_uuid}:body").decode()


def seal_note(case_key: bytes, note_uuid: str, body: str) -> bytes:
    """An internal note under the case key (the app never shows it to the reporter)."""
    return aead.encrypt(case_key, body.encode(), f"note:{note_uuid}:body")


def open_note(case_key: bytes, note_uuid: str, blob: bytes) -> str:
    return aead.decrypt(case_key, blob, f"note:{note_uuid}:body").decode()

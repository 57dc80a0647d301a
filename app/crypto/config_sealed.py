"""What only this server opens: values sealed under keys from the configuration (appkey).

A stolen database alone opens none of them; the database with the configuration does (see
docs/ARCHITECTURE.md), which is why each one is either short-lived or still needs a password.
"""
import json

from . import aead
from .appkey import Purpose, app_key


def seal_outbox_parts(mail_id: int, kind: str, parts: dict[str, str]) -> bytes:
    """A pending mail's secret recipient and/or body (`OutboxMail.sealed`)."""
    return aead.encrypt(app_key(Purpose.OUTBOX), json.dumps(parts).encode(),
                        f"outbox:{mail_id}:{kind}")


def open_outbox_parts(mail_id: int, kind: str, sealed: bytes) -> dict[str, str]:
    return json.loads(aead.decrypt(app_key(Purpose.OUTBOX), sealed, f"outbox:{mail_id}:{kind}"))


def seal_totp_secret(app_secret: str, staff_id: int, secret: bytes) -> bytes:
    """A staff member's TOTP secret (`StaffAccount.totp_secret`)."""
    return aead.encrypt(app_key(Purpose.TOTP_STORAGE, secret=app_secret), secret,
                        f"staff:{staff_id}:totp")


def open_totp_secret(app_secret: str, staff_id: int, sealed: bytes) -> bytes:
    return aead.decrypt(app_key(Purpose.TOTP_STORAGE, secret=app_secret), sealed,
                        f"staff:{staff_id}:totp")


def _enrolment_aad(invitation_id: int, token_hash: bytes) -> str:
    return f"invitation:{invitation_id}:{token_hash.hex()}:totp"


def seal_enrolment(app_secret: str, invitation_id: int, token_hash: bytes,
                   secret: bytes) -> bytes:
    """The TOTP secret carried in the activation form, bound to one invitation."""
    return aead.encrypt(app_key(Purpose.ACTIVATION_TOTP, secret=app_secret), secret,
                        _enrolment_aad(invitation_id, token_hash))


def open_enrolment(app_secret: str, invitation_id: int, token_hash: bytes,
                   blob: bytes) -> bytes:
    return aead.decrypt(app_key(Purpose.ACTIVATION_TOTP, secret=app_secret), blob,
                        _enrolment_aad(invitation_id, token_hash))

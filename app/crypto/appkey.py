"""Keys derived from the application's configuration (SECRET_KEY), one per purpose.

These protect what must not be readable or forgeable from a stolen database alone: pending mail
holding an activation link or a reporter's address, TOTP secrets, the enrolment field, the audit
chain's authentication, the known-device cookie, the rate limiter's counter names, the
integrity plan's verification documents (the institution's own papers, often public). `app_key()`
is the only place a key is taken from SECRET_KEY, and its purposes are a closed set: no two uses
share a key.

Each purpose keeps the derivation it was introduced with, so every key made before stays the
same bytes (tests/test_appkey.py pins them): HKDF-SHA256 for the sealing and MAC keys; the rate
limiter's SHA-256 over labelled input; for the device cookie, the key itsdangerous derives from
SECRET_KEY and its salt ("django-concat": SHA-1(salt | "signer" | secret)).
"""
import enum
import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# HKDF-Extract with this salt is HMAC("avertizor", SECRET_KEY).
_HKDF_SALT = b"avertizor"
DEVICE_COOKIE_SALT = "avertizor-device"


class Purpose(enum.Enum):
    OUTBOX = "outbox"  # OutboxMail.sealed
    AUDIT = "audit"  # HMAC of each audit entry
    TOTP_STORAGE = "totp-storage"  # StaffAccount.totp_secret
    ACTIVATION_TOTP = "activation-totp"  # the enrolment field of the activation form
    RATE_LIMIT_DAY = "ratelimit"  # context: the UTC day (the client network's digest)
    RATE_LIMIT_COUNTER = "counter"  # context: the counter's purpose (e.g. "sign-in")
    KNOWN_DEVICE = "device"  # signing the known-device cookie (itsdangerous, no derivation)
    PLAN_EVIDENCE = "plan-evidence"  # wraps the integrity plan's verification documents


_HKDF_PURPOSES = {Purpose.OUTBOX, Purpose.AUDIT, Purpose.TOTP_STORAGE, Purpose.ACTIVATION_TOTP,
                  Purpose.PLAN_EVIDENCE}


def app_key(purpose: Purpose, context: str = "", *, secret: str | bytes | None = None) -> bytes:
    """The key for `purpose` from `secret`, or from the running application's SECRET_KEY.
    `context` is required by the rate limiter's purposes and refused by the others."""
    if not isinstance(purpose, Purpose):
        raise TypeError("app_key takes a Purpose")
    if secret is None:
        from flask import current_app

        secret = current_app.config.get("SECRET_KEY")
    if not secret:
        raise ValueError("SECRET_KEY is not set")
    material = secret.encode() if isinstance(secret, str) else secret
    needs_context = purpose in (Purpose.RATE_LIMIT_DAY, Purpose.RATE_LIMIT_COUNTER)
    if needs_context != bool(context):
        raise ValueError(f"{purpose.name} {'needs' if needs_context else 'takes no'} context")
    if purpose in _HKDF_PURPOSES:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT,
                    info=f"avertizor-{purpose.value}-v1".encode()).derive(material)
    if purpose is Purpose.RATE_LIMIT_DAY:
        return hashlib.sha256(b"avertizor-ratelimit|" + material + context.encode()).digest()
    if purpose is Purpose.RATE_LIMIT_COUNTER:
        return hashlib.sha256(b"avertizor-counter|" + context.encode() + b"|"
                              + material).digest()
    # Purpose.KNOWN_DEVICE: the HMAC key itsdangerous derived from (SECRET_KEY, salt) before;
    # SHA-1 is its key derivation, the signature itself is HMAC.
    digest = hashes.Hash(hashes.SHA1())  # noqa: S303 (itsdangerous)  # nosec B303
    digest.update(DEVICE_COOKIE_SALT.encode() + b"signer" + material)
    return digest.finalize()

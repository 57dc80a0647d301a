"""Keys derived from the application's configuration (SECRET_KEY), one per purpose.

These protect what must not be readable from a stolen database alone: pending mail holding an
activation link or a reporter's address, TOTP secrets, the enrolment field, the audit chain's
authentication. HKDF-SHA256 binds each key to its purpose, so no two uses share a key.
"""
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# HKDF-Extract with this salt is HMAC("avertizor", SECRET_KEY): the derivation the TOTP
# storage key has always used, so keys made before this module existed still open.
SALT = b"avertizor"


def derive_app_key(secret: str | bytes, purpose: str) -> bytes:
    """32 bytes for `purpose`, from the configuration's secret."""
    if not secret:
        raise ValueError("SECRET_KEY is not set")
    material = secret.encode() if isinstance(secret, str) else secret
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT,
                info=f"avertizor-{purpose}-v1".encode()).derive(material)


def app_key(purpose: str) -> bytes:
    """The key for `purpose` from the running application's SECRET_KEY."""
    from flask import current_app

    return derive_app_key(current_app.config["SECRET_KEY"], purpose)

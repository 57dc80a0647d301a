"""Key pairs of staff members and of the institution's offline recovery key."""
import base64
import hmac
import os

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from . import aead, kdf
from .seal import public_bytes

SALT_BYTES = 16


def private_bytes(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def load_private(raw: bytes) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


def load_public(raw: bytes) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(raw)


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


class PasswordLockedKey:
    """A staff key pair whose private half is wrapped under the password-derived key."""

    def __init__(self, public_key: bytes, wrapped_private_key: bytes, verifier: bytes,
                 salt: bytes, kdf_params: str):
        self.public_key = public_key
        self.wrapped_private_key = wrapped_private_key
        self.verifier = verifier
        self.salt = salt
        self.kdf_params = kdf_params

    @staticmethod
    def _aad(public_key: bytes) -> str:
        return "staff-key:" + public_key.hex()

    @classmethod
    def create(cls, password: str, params: kdf.KdfParams,
               private_key: X25519PrivateKey | None = None) -> "PasswordLockedKey":
        private_key = private_key or X25519PrivateKey.generate()
        salt = new_salt()
        derived = kdf.derive(password, salt, params, purpose="password")
        public = public_bytes(private_key.public_key())
        wrapped = aead.encrypt(derived.key, private_bytes(private_key), cls._aad(public))
        return cls(public, wrapped, derived.public_part, salt, params.encode())

    @classmethod
    def unlock(cls, password: str, public_key: bytes, wrapped_private_key: bytes,
               verifier: bytes, salt: bytes, kdf_params: str) -> X25519PrivateKey | None:
        """The private key, or None when the password is wrong (constant-time comparison)."""
        derived = kdf.derive(password, salt, kdf.KdfParams.decode(kdf_params), purpose="password")
        if not hmac.compare_digest(derived.public_part, verifier):
            return None
        return load_private(aead.decrypt(derived.key, wrapped_private_key, cls._aad(public_key)))


# The recovery code is the raw private key in Crockford-style base32, grouped for printing.
_RECOVERY_GROUP = 4


def recovery_code(private_key: X25519PrivateKey) -> str:
    text = base64.b32encode(private_bytes(private_key)).decode().rstrip("=")
    return "-".join(text[i : i + _RECOVERY_GROUP] for i in range(0, len(text), _RECOVERY_GROUP))


def private_key_from_recovery_code(code: str) -> X25519PrivateKey:
    text = "".join(ch for ch in code.upper() if ch.isalnum())
    text += "=" * (-len(text) % 8)
    try:
        raw = base64.b32decode(text)
    except ValueError as exc:
        raise ValueError("recovery code is not valid") from exc
    if len(raw) != 32:
        raise ValueError("recovery code is not valid")
    return load_private(raw)

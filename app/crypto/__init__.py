"""Avertizor's cryptography: who can read what.

Everything here is built on the `cryptography` package: AES-256-GCM, X25519, HKDF-SHA256 and
Argon2id. Nothing below the level of those primitives is written by hand.
"""


class DecryptionError(Exception):
    """A ciphertext was tampered with, moved to another place, or the key is wrong."""

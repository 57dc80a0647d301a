"""Avertizor's cryptography: who can read what.

Everything here is built on the `cryptography` package: AES-256-GCM, X25519, HKDF-SHA256 and
Argon2id. Nothing below the level of those primitives is written by hand. Associated data and
sealing labels are spelled only here; every sealing call names its readers (`to=[...]`).

- aead            AES-256-GCM with a version byte and associated data
- seal            sealing to an X25519 public key
- kdf             Argon2id for receipts and passwords
- keys            staff key pairs (password-locked) and the recovery code
- envelope        a case's readers, its case and identity keys, and each field they encrypt
- files           evidence files in 1 MiB chunks
- stream          the backup archive: its key sealed to recovery keys, the encrypted stream
- request_reasons the reasons of an identity request, sealed to their readers
- appkey          app_key(Purpose): every key taken from SECRET_KEY
- config_sealed   what only the server opens: pending mail secrets, TOTP secrets, enrolment
- cookie_sealed   session secrets whose key is only in a browser's cookie
"""


class DecryptionError(Exception):
    """A ciphertext was tampered with, moved to another place, or the key is wrong."""

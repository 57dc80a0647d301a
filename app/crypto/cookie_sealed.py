"""Secrets whose key is only in a browser's cookie (see services/split_session.py).

The associated data names the kind of session and the hash of the cookie's token, so a row's
secret opens only for the cookie it was made for.
"""
from . import aead


def _aad(purpose: str, token_hash: bytes) -> str:
    return f"{purpose}-session:{token_hash.hex()}"


def seal_session_secret(key: bytes, token_hash: bytes, purpose: str, secret: bytes) -> bytes:
    return aead.encrypt(key, secret, _aad(purpose, token_hash))


def open_session_secret(key: bytes, token_hash: bytes, purpose: str, sealed: bytes) -> bytes:
    return aead.decrypt(key, sealed, _aad(purpose, token_hash))

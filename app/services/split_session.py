"""Sessions whose secret is split between a database row and the user's cookie.

The cookie carries a random id and a random key; the row, found by a hash of the id, holds the
secret (a case key, a private key) encrypted under that key. A stolen database lacks the key; a
stolen cookie is useless once the row is deleted at logout or expiry.

Reporter sessions (ReporterSession) and staff sessions (StaffSession) share the rows' columns
used here: token_hash, created_at, last_seen_at, expires_at.
"""
import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from ..crypto import aead
from ..crypto.cookie_sealed import open_session_secret, seal_session_secret
from ..extensions import db


@dataclass(frozen=True)
class CookieSecret:
    token_hash: bytes  # stored, to find the row
    key: bytes  # never stored

    def seal(self, secret: bytes, purpose: str) -> bytes:
        return seal_session_secret(self.key, self.token_hash, purpose, secret)

    def open(self, sealed: bytes, purpose: str) -> bytes:
        return open_session_secret(self.key, self.token_hash, purpose, sealed)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_hash(token: bytes) -> bytes:
    return hashlib.sha256(token).digest()


def new_cookie() -> tuple[str, CookieSecret]:
    """A fresh cookie value and the secret it stands for."""
    token, key = secrets.token_bytes(32), aead.new_key()
    return f"{_b64(token)}.{_b64(key)}", CookieSecret(token_hash(token), key)


def parse_cookie(value: str | None) -> CookieSecret | None:
    try:
        token_text, key_text = (value or "").split(".")
        token, key = _unb64(token_text), _unb64(key_text)
    except (ValueError, binascii.Error):
        return None
    if len(token) != 32 or len(key) != 32:
        return None
    return CookieSecret(token_hash(token), key)


def live_row(model, secret: CookieSecret, *, idle: timedelta, now: datetime):
    """The session row behind the cookie, if it has neither expired nor been idle too long."""
    row = db.session.scalar(select(model).where(model.token_hash == secret.token_hash))
    if row is None or row.expires_at < now or row.last_seen_at < now - idle:
        return None
    return row


def end(model, cookie_value: str | None) -> None:
    """Delete the session behind the cookie (logout): the cookie alone opens nothing."""
    secret = parse_cookie(cookie_value)
    if secret is not None:
        db.session.execute(delete(model).where(model.token_hash == secret.token_hash))


def purge_expired(model, *, idle: timedelta, now: datetime) -> None:
    db.session.execute(delete(model).where(or_(
        model.expires_at < now, model.last_seen_at < now - idle)))

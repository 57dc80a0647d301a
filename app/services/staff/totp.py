"""Second factor: TOTP codes (RFC 6238, 6 digits, 30 s), with the QR code drawn as SVG here."""
import base64
import os
import time

import segno
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from sqlalchemy import or_, update

from ...crypto import config_sealed

DIGITS = 6
STEP_SECONDS = 30
# A code is accepted one step early or late, to forgive clocks that drift a little.
WINDOW = 1
ISSUER = "Avertizor"


def new_secret() -> bytes:
    return os.urandom(20)


def secret_text(secret: bytes) -> str:
    """The secret as people type it into an authenticator app: base32 in groups of four."""
    text = base64.b32encode(secret).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _totp(secret: bytes) -> TOTP:
    return TOTP(secret, DIGITS, hashes.SHA1(), STEP_SECONDS, enforce_key_length=False)  # noqa: S303 (RFC 6238)  # nosec B303


def provisioning_uri(secret: bytes, account: str) -> str:
    return _totp(secret).get_provisioning_uri(account, ISSUER)


def qr_svg(uri: str) -> str:
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff",
                                                  title="TOTP QR code")


def code_at(secret: bytes, when: float) -> str:
    return _totp(secret).generate(int(when)).decode()


def accepted_step(secret: bytes, code: str, last_step: int | None,
                  now: float | None = None) -> int | None:
    """The time step the code belongs to, if valid and newer than the last one accepted."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = time.time() if now is None else now
    current = int(now) // STEP_SECONDS
    totp = _totp(secret)
    for step in range(current - WINDOW, current + WINDOW + 1):
        try:
            totp.verify(code.encode(), step * STEP_SECONDS)
        except InvalidToken:
            continue
        if last_step is not None and step <= last_step:
            return None  # replay of a code already used
        return step
    return None


def claim_step(account_id: int, step: int) -> bool:
    """Record `step` as the account's last used one, only if it is newer than the one stored
    (a conditional UPDATE): of two sign-ins posting the same code at the same time, the
    database lets exactly one through. True if this one did."""
    from ...extensions import db
    from ...models import StaffAccount
    result = db.session.execute(
        update(StaffAccount)
        .where(StaffAccount.id == account_id,
               or_(StaffAccount.totp_last_step.is_(None), StaffAccount.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]  # a CursorResult, typed as Result


def seal_secret(app_secret: str, account_id: int, secret: bytes) -> bytes:
    """TOTP secrets are stored encrypted under a key derived from SECRET_KEY: a stolen
    database alone does not yield anyone's second factor."""
    return config_sealed.seal_totp_secret(app_secret, account_id, secret)


def open_secret(app_secret: str, account_id: int, sealed: bytes) -> bytes:
    return config_sealed.open_totp_secret(app_secret, account_id, sealed)

"""Evidence files kept across a refused report form, so the reporter need not choose them again.

The files (already checked and cleaned of image metadata, like any evidence) are sealed under
a random key that exists only in the reporter's cookie (see split_session): the database holds
ciphertext it cannot open, found by a hash of the cookie's id. They are deleted when the report
is sent, when the reporter starts a fresh form, and by anyone's next visit after HOLD_MINUTES.
Nothing is written to the upload folder: a refused form leaves no file behind.
"""
import base64
import io
import json
import os
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from ...crypto import DecryptionError
from ...extensions import db
from ...models.message import HeldUpload
from ...models.types import utcnow
from ..errors import EvidenceRejected
from ..split_session import new_cookie, parse_cookie
from .evidence import Evidence

HOLD_MINUTES = 15
PURPOSE = "held-files"


@dataclass
class Held:
    cookie: str
    names: list[str]


def sweep() -> None:
    """Forget what was held longer than HOLD_MINUTES (the cookie has expired by then too)."""
    db.session.execute(delete(HeldUpload).where(
        HeldUpload.created_at < utcnow() - timedelta(minutes=HOLD_MINUTES)))


def hold(evidence: list[Evidence]) -> Held | None:
    """Keep these files for the next attempt; returns the cookie that opens them."""
    if not evidence:
        return None
    items = []
    for item in evidence:
        item.stream.seek(0)
        items.append({"name": item.filename, "type": item.mimetype,
                      "data": base64.b64encode(item.stream.read()).decode()})
        item.stream.seek(0)
    sweep()
    cookie, secret = new_cookie()
    db.session.add(HeldUpload(token_hash=secret.token_hash, created_at=utcnow(),
                              sealed=secret.seal(json.dumps(items).encode(), PURPOSE)))
    db.session.flush()
    return Held(cookie=cookie, names=[item.filename for item in evidence])


def take(cookie_value: str | None) -> list[Evidence]:
    """The files held for this cookie, forgotten in the database with the caller's
    transaction; [] when there are none or they expired. Without a cookie nothing is read or
    written (a plain GET of the form must not write)."""
    secret = parse_cookie(cookie_value)
    if secret is None:
        return []
    sweep()
    row = db.session.scalar(select(HeldUpload).where(
        HeldUpload.token_hash == secret.token_hash))
    if row is None:
        return []
    db.session.delete(row)
    try:
        items = json.loads(secret.open(row.sealed, PURPOSE))
    except (DecryptionError, ValueError):
        return []
    return [Evidence(filename=item["name"], mimetype=item["type"],
                     stream=io.BytesIO(base64.b64decode(item["data"]))) for item in items]


def check_together(held: list[Evidence], new: list[Evidence]) -> None:
    """Held and newly chosen files together stay within the upload limits."""
    config = current_app.config
    files = held + new
    if len(files) > config["UPLOAD_MAX_FILES"]:
        raise EvidenceRejected(
            _l("You can attach at most %(count)d files.", count=config["UPLOAD_MAX_FILES"]),
            field="evidence")
    total = 0
    for item in files:
        item.stream.seek(0, os.SEEK_END)
        total += item.stream.tell()
        item.stream.seek(0)
    if total > config["UPLOAD_MAX_TOTAL_BYTES"]:
        raise EvidenceRejected(
            _l("Together the files are larger than %(mb)d MB.",
               mb=config["UPLOAD_MAX_TOTAL_BYTES"] // (1024 * 1024)), field="evidence")

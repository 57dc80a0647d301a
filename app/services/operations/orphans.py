"""Encrypted files with no row: left by a process killed between writing an upload and
committing its transaction. They are unreadable (their key was in the uncommitted row), but
they take room and say that something was sent, so `jobs run` removes them after a grace
period long enough for any upload still in flight."""
import os
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ...models import Attachment, PlanEvidence
from .shredding import shred

GRACE = timedelta(hours=1)


def sweep(now: float | None = None) -> int:
    folder = current_app.config["UPLOAD_FOLDER"]
    if not os.path.isdir(folder):
        return 0
    cutoff = (now if now is not None else time.time()) - GRACE.total_seconds()
    candidates = {entry.name: entry.path for entry in os.scandir(folder)
                  if entry.is_file() and entry.stat().st_mtime < cutoff}
    if not candidates:
        return 0
    known = set(db.session.scalars(select(Attachment.storage_name).where(
        Attachment.storage_name.in_(list(candidates)))))
    known.update(db.session.scalars(select(PlanEvidence.storage_name).where(
        PlanEvidence.storage_name.in_(list(candidates)))))
    removed = 0
    for name, path in candidates.items():
        if name not in known:
            removed += shred(path)
    return removed

"""Erasing stored data for good: files overwritten before they are removed, and SQLite told to
zero the pages it frees.

A file is shredded only once the transaction that deleted its row has committed: a failed
transaction must not leave a row whose file is gone. The file's key was wrapped by the case key
inside that row, so from the commit on the file cannot be decrypted anyway (crypto-shredding);
overwriting it is the second lock, for disks that keep what was unlinked.
"""
import os

from flask import current_app
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from ...extensions import db

_PENDING = "avertizor_files_to_shred"
_BLOCK = 1024 * 1024


def shred(path: str) -> bool:
    """Overwrite the file with random bytes of the same length, flush it to the disk, remove
    it. False when it was already gone."""
    try:
        handle = open(path, "r+b", buffering=0)
    except FileNotFoundError:
        return False
    with handle:
        remaining = os.fstat(handle.fileno()).st_size
        while remaining:
            block = min(remaining, _BLOCK)
            handle.write(os.urandom(block))
            remaining -= block
        os.fsync(handle.fileno())
    os.remove(path)
    directory = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        os.fsync(directory)  # the removal itself reaches the disk
    finally:
        os.close(directory)
    return True


def shred_after_commit(path: str) -> None:
    """Shred `path` when the current transaction commits; forget it if it rolls back."""
    session = db.session()
    session.connection()  # a transaction exists, so its end is observed
    session.info.setdefault(_PENDING, []).append(path)


@event.listens_for(Session, "after_commit")
def _shred_committed(session):
    if session.in_nested_transaction():
        return  # a savepoint released, not the real commit
    for path in session.info.pop(_PENDING, []):
        try:
            shred(path)
        except OSError:
            # The row and the key are gone already; the leftover ciphertext cannot be opened.
            current_app.logger.exception("could not shred an evidence file")


@event.listens_for(Session, "after_transaction_end")
def _forget_on_rollback(session, transaction):
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def zero_freed_pages() -> None:
    """SQLite keeps deleted and replaced values in free pages until they are reused; from now
    on this connection overwrites them with zeros. PostgreSQL's dead rows go at VACUUM."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("PRAGMA secure_delete = ON"))

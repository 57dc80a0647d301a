"""One unit of work per request: database rows and encrypted files commit or vanish together.

Files written during a transaction are staged on the session. When the outermost transaction
ends without a commit (an exception, a rollback, a closed session), the staged files are
deleted, so a failed submission leaves neither a row nor a file behind.
"""
import os
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db

_STAGED = "avertizor_staged_files"


def stage_file(path: str) -> None:
    session = db.session()
    session.connection()  # make sure a transaction exists, so its end is observed
    session.info.setdefault(_STAGED, []).append(path)


@event.listens_for(Session, "after_commit")
def _keep_staged_files(session):
    # SQLAlchemy also fires after_commit when a savepoint is released: only the real commit
    # makes the files permanent.
    if session.in_nested_transaction():
        return
    session.info.pop(_STAGED, None)


@event.listens_for(Session, "after_transaction_end")
def _discard_uncommitted_files(session, transaction):
    if transaction.parent is not None:
        return
    for path in session.info.pop(_STAGED, []):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


@contextmanager
def unit_of_work():
    """Commit on success; on any exception roll back (removing staged files) and re-raise."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise

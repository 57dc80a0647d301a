"""The audit log: append-only and hash-chained per institution.

entry_hash = SHA-256(prev_hash | canonical JSON of the entry). The head row, updated in the
same transaction, holds the chain's length and last hash; its row lock makes concurrent writers
take turns, so the chain never forks. `flask audit verify` recomputes everything.
"""
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import AuditEntry, AuditHead
from ..models.types import utcnow

GENESIS = bytes(32)


def _canonical(entry: AuditEntry) -> bytes:
    return json.dumps({
        "institution": entry.institution_id, "seq": entry.seq, "at": entry.at.isoformat(),
        "actor": entry.actor_staff_id, "action": entry.action, "case": entry.case_id,
        "detail": entry.detail,
    }, sort_keys=True, ensure_ascii=False).encode()


def entry_hash(prev_hash: bytes, entry: AuditEntry) -> bytes:
    return hashlib.sha256(prev_hash + _canonical(entry)).digest()


def _advance_head(institution_id: int) -> tuple[int, bytes]:
    """Take the next position in the chain: (seq, previous hash), holding the head's lock."""
    statement = (update(AuditHead).where(AuditHead.institution_id == institution_id)
                 .values(length=AuditHead.length + 1)
                 .returning(AuditHead.length, AuditHead.head_hash))
    row = db.session.execute(statement).one_or_none()
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(AuditHead(institution_id=institution_id, length=0,
                                         head_hash=GENESIS))
        except IntegrityError:
            pass  # another writer created it first
        row = db.session.execute(statement).one()
    return row[0], row[1]


def record(action: str, *, institution_id: int, actor=None, case=None,
           detail: str | dict = "") -> AuditEntry:
    """Append one entry. `detail` is plain metadata; never put report content in it."""
    if isinstance(detail, dict):
        detail = json.dumps(detail, sort_keys=True, ensure_ascii=False)
    seq, prev_hash = _advance_head(institution_id)
    entry = AuditEntry(
        institution_id=institution_id, seq=seq, at=utcnow(), action=action, detail=detail,
        actor_staff_id=actor.id if actor is not None else None,
        case_id=case.id if case is not None else None, prev_hash=prev_hash)
    entry.entry_hash = entry_hash(prev_hash, entry)
    db.session.add(entry)
    db.session.execute(update(AuditHead).where(AuditHead.institution_id == institution_id)
                       .values(head_hash=entry.entry_hash))
    return entry


@dataclass
class ChainBreak:
    institution_id: int
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"institution {self.institution_id}, entry {self.seq}: {self.reason}"


def verify() -> ChainBreak | None:
    """The first broken link of any institution's chain, or None when every chain holds."""
    for head in db.session.scalars(select(AuditHead).order_by(AuditHead.institution_id)):
        running, expected = GENESIS, 1
        entries = db.session.scalars(select(AuditEntry).where(
            AuditEntry.institution_id == head.institution_id).order_by(AuditEntry.seq))
        for entry in entries:
            if entry.seq != expected:
                return ChainBreak(head.institution_id, expected, "entry missing")
            if entry.prev_hash != running:
                return ChainBreak(head.institution_id, entry.seq,
                                  "does not follow the previous entry")
            if entry_hash(running, entry) != entry.entry_hash:
                return ChainBreak(head.institution_id, entry.seq, "entry was altered")
            running, expected = entry.entry_hash, expected + 1
        if head.length != expected - 1 or head.head_hash != running:
            return ChainBreak(head.institution_id, expected,
                              "entries missing at the end of the chain")
    return None


def entries_for_case(case_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id)
                                   .order_by(AuditEntry.seq)))

"""The audit log: append-only and hash-chained per institution.

entry_hash = SHA-256(prev_hash | canonical JSON of the entry). The head row, updated in the
same transaction, holds the chain's length and last hash; its row lock makes concurrent writers
take turns, so the chain never forks. `flask audit verify` recomputes everything.

Anchored outside the database, since whoever can write to it could cut the last entries and
rewind the head, or recompute the whole chain:
- each entry carries HMAC(app_key(Purpose.AUDIT), entry_hash): recomputing the chain needs the
  configuration, not only the database;
- the head (its short form and in full) is shown on the admin audit page and mailed to the
  admins every day (`jobs run`); `flask audit verify --head <noted value>` fails when that
  value is no longer in the chain, i.e. when entries were cut or rewritten since it was noted.
"""
import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from flask import current_app, has_app_context
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ...crypto import DecryptionError, envelope
from ...crypto.appkey import Purpose, app_key
from ...extensions import db
from ...models import AuditEntry, AuditHead
from ...models.types import utcnow

GENESIS = bytes(32)
SHORT_HEX = 16  # the short form of a head: 64 bits, enough to note by hand


def _canonical(entry: AuditEntry) -> bytes:
    return json.dumps({
        "institution": entry.institution_id, "seq": entry.seq, "at": entry.at.isoformat(),
        "actor": entry.actor_staff_id, "action": entry.action, "case": entry.case_id,
        "detail": entry.detail,
    }, sort_keys=True, ensure_ascii=False).encode()


def entry_hash(prev_hash: bytes, entry: AuditEntry) -> bytes:
    return hashlib.sha256(prev_hash + _canonical(entry)).digest()


def entry_mac(entry_hash_value: bytes) -> bytes | None:
    """The entry's authentication under the configuration's key (None without an app)."""
    if not has_app_context() or not current_app.config.get("SECRET_KEY"):
        return None
    return hmac.new(app_key(Purpose.AUDIT), entry_hash_value, "sha256").digest()


def short_head(head_hash: bytes) -> str:
    """The head as people note it: 16 hex digits in groups of four."""
    text = head_hash.hex()[:SHORT_HEX]
    return "-".join(text[i:i + 4] for i in range(0, SHORT_HEX, 4))


def parse_head(value: str) -> str | None:
    """A noted head (short or full, any separators) as lowercase hex, or None."""
    text = re.sub(r"[\s:\-]", "", value or "").lower()
    if len(text) < SHORT_HEX or len(text) > 64 or not re.fullmatch(r"[0-9a-f]+", text):
        return None
    return text


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
    entry.entry_mac = entry_mac(entry.entry_hash)
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
        if not self.institution_id:
            return self.reason
        return f"institution {self.institution_id}, entry {self.seq}: {self.reason}"


def verify(noted_heads: list[str] | None = None) -> ChainBreak | None:
    """The first broken link of any institution's chain, or None when every chain holds.
    Each of `noted_heads` (short or full, as noted from the audit page or the daily mail) must
    be the hash of an entry of a verified chain: else entries were cut or rewritten."""
    wanted = {}
    for value in noted_heads or []:
        parsed = parse_head(value)
        if parsed is None:
            return ChainBreak(0, 0, f"{value!r} is not a head value (16 to 64 hex digits)")
        wanted[parsed] = value
    found: set[str] = set()
    for head in db.session.scalars(select(AuditHead).order_by(AuditHead.institution_id)):
        running, expected, authenticated = GENESIS, 1, False
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
            mac = entry_mac(entry.entry_hash)
            if entry.entry_mac is not None or authenticated:
                # Entries from before the MAC existed may only come first.
                if mac is not None and (entry.entry_mac is None
                                        or not hmac.compare_digest(mac, entry.entry_mac)):
                    return ChainBreak(head.institution_id, entry.seq,
                                      "entry does not authenticate (written without the "
                                      "configuration's key)")
                authenticated = True
            hex_hash = entry.entry_hash.hex()
            for parsed in wanted:
                if hex_hash.startswith(parsed):
                    found.add(parsed)
            running, expected = entry.entry_hash, expected + 1
        if head.length != expected - 1 or head.head_hash != running:
            return ChainBreak(head.institution_id, expected,
                              "entries missing at the end of the chain")
    for parsed, value in wanted.items():
        if parsed not in found:
            return ChainBreak(0, 0, f"the noted head {value} is not in the chain: entries "
                                    "were removed or rewritten after it was noted")
    return None


def current_head(institution_id: int) -> AuditHead | None:
    return db.session.scalar(select(AuditHead).where(AuditHead.institution_id ==
                                                      institution_id))


# A reason typed by staff about a case (identity reveal) sits in the detail only encrypted
# under the case key, base64, under this name.
SEALED_REASON = "reason_sealed"


def seal_reason(case, case_key: bytes, reason: str) -> str:
    blob = envelope.seal_audit_reason(case_key, case.uuid, reason)
    return base64.b64encode(blob).decode()


def open_reason(case, case_key: bytes, sealed: str) -> str | None:
    try:
        return envelope.open_audit_reason(case_key, case.uuid, base64.b64decode(sealed))
    except (ValueError, DecryptionError):
        return None


@dataclass
class CaseAuditRow:
    """An audit entry as a case's reader sees it: sealed reasons opened (in memory only)."""

    id: int
    seq: int
    at: object
    actor_staff_id: int | None
    action: str
    detail: str


def entries_for_case(case_id: int, *, case=None, case_key: bytes | None = None) -> list:
    """The case's audit entries; given the case key, as CaseAuditRow with reasons readable."""
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id)
                                      .order_by(AuditEntry.seq)))
    if case_key is None or case is None:
        return entries
    rows = []
    for entry in entries:
        detail = entry.detail
        if SEALED_REASON in detail:
            try:
                parsed = json.loads(detail)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and SEALED_REASON in parsed:
                reason = open_reason(case, case_key, parsed.pop(SEALED_REASON))
                parsed["reason"] = reason if reason is not None else "?"
                detail = json.dumps(parsed, sort_keys=True, ensure_ascii=False)
        rows.append(CaseAuditRow(entry.id, entry.seq, entry.at, entry.actor_staff_id,
                                 entry.action, detail))
    return rows

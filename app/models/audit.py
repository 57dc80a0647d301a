from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow


class AuditEntry(Model):
    """Append-only, hash-chained record of staff actions: each entry's hash covers its fields
    and the previous entry's hash, so an edited or deleted entry breaks the chain."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        UniqueConstraint("institution_id", "seq"),
        Index("ix_audit_entry_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    seq: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    action: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    # Plain metadata only (a reason the staff member wrote, a file id, a status); no content.
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # HMAC-SHA256 of entry_hash under app_key(Purpose.AUDIT): a chain recomputed by someone who has
    # the database but not the configuration does not authenticate. None on entries written
    # before the MAC existed (only ever a prefix of the chain).
    entry_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class AuditHead(Model):
    """The chain's last link per institution; its row lock serialises concurrent writers."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), unique=True)
    length: Mapped[int] = mapped_column(default=0)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))

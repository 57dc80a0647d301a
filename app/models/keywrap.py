"""Who holds a case's keys: one row per recipient, and the reporter's receipt."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, str_enum, utcnow


class KeyKind(enum.Enum):
    CASE = "case"
    IDENTITY = "identity"


class KeyWrap(Model):
    """A case or identity key sealed to a staff member, or (staff_id None) to the recovery key."""

    __tablename__ = "key_wrap"
    __table_args__ = (
        UniqueConstraint("case_id", "staff_id", "kind"),
        # The inbox lists the cases a handler holds a key for.
        Index("ix_key_wrap_staff_kind_case", "staff_id", "kind", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    kind: Mapped[KeyKind] = mapped_column(str_enum(KeyKind))
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case = relationship("Case")


class Receipt(Model):
    """The reporter's way back in. The receipt itself is never stored: only
    Argon2id(receipt, institution salt) split into a lookup id and the key that wraps the case key."""

    __tablename__ = "receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    lookup_id: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kdf_params: Mapped[str] = mapped_column(String(64))
    wrapped_case_key: Mapped[bytes] = mapped_column(LargeBinary)

    case = relationship("Case")

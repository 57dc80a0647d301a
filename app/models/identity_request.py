from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

PENDING, APPROVED, DENIED = "pending", "approved", "denied"


class IdentityRequest(db.Model):
    """Policy `custodian`: a handler asks to see a reporter's identity; a custodian decides."""

    __tablename__ = "identity_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    requested_by_staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    reason: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    decided_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

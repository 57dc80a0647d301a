import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, str_enum, utcnow


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class IdentityRequest(Model):
    """Policy `custodian`: a handler asks to see a reporter's identity; a custodian decides."""

    __tablename__ = "identity_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    requested_by_staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    # The reasons may quote the report: stored only encrypted under a key of this request, which
    # is sealed to the requester, the custodians and the recovery key (see
    # app.crypto.request_reasons); requests filed earlier were sealed by migration 0008_b.
    reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus, 16),
                                                  default=RequestStatus.PENDING)
    decided_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    decision_reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    reader_keys: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

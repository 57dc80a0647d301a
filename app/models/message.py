import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

FROM_REPORTER = "reporter"
FROM_STAFF = "staff"


class Message(db.Model):
    """One message of the thread between the reporter and the handlers."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    author: Mapped[str] = mapped_column(String(16))  # FROM_REPORTER or FROM_STAFF
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    body: Mapped[bytes] = mapped_column(LargeBinary)  # AAD message:<uuid>:body
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow

FROM_REPORTER = "reporter"
FROM_STAFF = "staff"


class Message(Model):
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


class CaseSeen(Model):
    """When a handler last opened a case: a reporter's message after it is unread for them."""

    __tablename__ = "case_seen"
    __table_args__ = (UniqueConstraint("case_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HeldUpload(Model):
    """Evidence kept across a refused report form for a few minutes, so the reporter need not
    choose the files again: sealed under a key that exists only in the reporter's cookie
    (see services.intake.held_files), found by a hash of the cookie's id."""

    __tablename__ = "held_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

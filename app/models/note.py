import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow


class Note(Model):
    """An internal note of the handlers, never shown to the reporter."""

    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    body: Mapped[bytes] = mapped_column(LargeBinary)  # AAD note:<uuid>:body, case key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

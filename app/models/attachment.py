import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow


class Attachment(Model):
    """An evidence file. Its name, type and size are encrypted; on disk it has a random name."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    author: Mapped[str] = mapped_column(String(16))
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    wrapped_file_key: Mapped[bytes] = mapped_column(LargeBinary)  # AAD file:<uuid>:key
    meta: Mapped[bytes] = mapped_column(LargeBinary)  # AAD file:<uuid>:meta
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case = relationship("Case")
    message = relationship("Message")

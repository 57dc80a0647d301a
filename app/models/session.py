from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow


class ReporterSession(Model):
    """Half of a reporter's session: the case key encrypted under a key that lives only in the
    reporter's cookie. The row is found by a hash of the cookie's id, never by the id itself."""

    __tablename__ = "reporter_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    sealed_case_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

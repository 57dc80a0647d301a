import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, str_enum, utcnow


class SessionStage(enum.StrEnum):
    PENDING_SECOND_FACTOR = "pending_totp"  # the password was right; the TOTP code is next
    ACTIVE = "active"  # both factors done


class StaffSession(Model):
    """Half of a staff session: the private key encrypted under a key that exists only in the
    staff member's cookie. Found by a hash of the cookie's id. It belongs to an account; its
    place (staff_id: the institution the person works in now) is None for a platform account
    (operator, observer), which has none."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"), index=True)
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    stage: Mapped[SessionStage] = mapped_column(str_enum(SessionStage, 16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

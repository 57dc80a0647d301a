from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow


class OutboxMail(Model):
    """A mail waiting to be delivered. Bodies never carry report content, names or receipts.
    The recipient is erased once the mail has gone."""

    __tablename__ = "outbox_mail"
    __table_args__ = (Index("ix_outbox_mail_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    kind: Mapped[str] = mapped_column(String(40))
    # For notices to a reporter: the case whose notify address the recipient came from. The
    # address is erased after a failed attempt and filled in again, from the encrypted case,
    # when a handler next opens the case (see notify.requeue_reporter_updates).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # What must not be readable from the database: a reporter's address, a body holding an
    # activation link. AES-GCM under app_key(Purpose.OUTBOX) (from SECRET_KEY, not in the database),
    # bound to the row; `recipient` / `body` then hold "" / a placeholder. Erased once sent.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Reminders are computed on every run; the key makes each one enqueued at most once.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))

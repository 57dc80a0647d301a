from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model


class RateCounter(Model):
    """A fixed-window counter shared by every worker: rate limits and sign-in lockouts.

    The key is a SHA-256 digest of the counter's name (which itself holds only keyed digests
    of client addresses or e-mails, never one in clear); rows past their window are purged.
    """

    __tablename__ = "rate_counter"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    # Seconds since the epoch (UTC) at which the window ends and the count starts again.
    expires_at: Mapped[float] = mapped_column(Float, index=True)

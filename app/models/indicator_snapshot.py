"""A materialised summary: one institution's exact indicators for one completed period, as
JSON counts, so that a county's or the country's figures need not scan millions of cases on
each request (services/indicators/snapshots.py). Counts of metadata only, nothing else."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow


class IndicatorSnapshot(Model):
    __tablename__ = "indicator_snapshot"
    # Read by period for a whole group: the period first.
    __table_args__ = (UniqueConstraint("period_code", "institution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    period_code: Mapped[str] = mapped_column(String(32))  # Period.code: "2025"
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    figures: Mapped[str] = mapped_column(Text)  # snapshots.to_json(Indicators)

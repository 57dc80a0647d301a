import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .case import Category
from .types import UTCDateTime, str_enum, utcnow


class RiskStatus(enum.Enum):
    IDENTIFIED = "identified"  # assessed, no prevention measure started yet
    TREATED = "treated"  # prevention measures under way
    REMEDIATED = "remediated"  # the vulnerability is remedied (Anexa C)
    CLOSED = "closed"  # no longer relevant (the activity ended, or the risk was accepted)


class CorruptionRisk(Model):
    """One corruption risk of an activity or process of the institution (integrity plan,
    measures 1.5 and 1.6). Written by the coordinator; nothing in it comes from a case."""

    __tablename__ = "corruption_risk"
    __table_args__ = (Index("ix_corruption_risk_institution_status", "institution_id",
                            "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    activity: Mapped[str] = mapped_column(String(200))  # activity or process
    # The area in the portal's case categories, so substantiated cases of that category can
    # prompt a review; None when no category fits.
    area: Mapped[Category | None] = mapped_column(str_enum(Category))
    description: Mapped[str] = mapped_column(Text)
    causes: Mapped[str] = mapped_column(Text, default="")
    probability: Mapped[int]  # 1–5, see services/risks/scoring.py
    impact: Mapped[int]  # 1–5
    owner: Mapped[str] = mapped_column(String(200))
    prevention: Mapped[str] = mapped_column(Text, default="")  # the measures, in words
    # Codes of the integrity plan's measures the prevention belongs to, e.g. "1.6, 2.2".
    plan_measures: Mapped[str] = mapped_column(String(200), default="")
    identified_on: Mapped[date] = mapped_column(Date)
    review_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[RiskStatus] = mapped_column(str_enum(RiskStatus),
                                               default=RiskStatus.IDENTIFIED)
    remediation: Mapped[str] = mapped_column(Text, default="")  # what was done (Anexa C)
    remediated_on: Mapped[date | None] = mapped_column(Date)
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

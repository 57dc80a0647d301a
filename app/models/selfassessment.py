import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, str_enum, utcnow


class Answer(enum.Enum):
    IMPLEMENTED = "implemented"
    PARTIAL = "partial"
    NOT_IMPLEMENTED = "not_implemented"
    NOT_APPLICABLE = "not_applicable"


class SelfAssessmentAnswer(Model):
    """One institution's answer, for one year, to one item of the national strategy's
    inventory of preventive measures (integrity plan, measure 1.8). The items themselves are
    data (services/selfassessment/inventory_*.json); `item_code` names one of them."""

    __tablename__ = "self_assessment_answer"
    __table_args__ = (UniqueConstraint("institution_id", "inventory", "year", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    inventory: Mapped[str] = mapped_column(String(40))  # e.g. "sna-2021-2025"
    year: Mapped[int]
    item_code: Mapped[str] = mapped_column(String(20))
    answer: Mapped[Answer] = mapped_column(str_enum(Answer))
    note: Mapped[str] = mapped_column(Text, default="")
    answered_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

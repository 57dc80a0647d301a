"""The integrity plan as data: a plan, its objectives and measures with the plan's own columns
(indicators, risks, verification sources, deadline as written, responsible, budget), every
change to a measure kept as a version, and what is recorded per measure and year.

The plan is public by nature (measure 1.4 publishes it), so its text is plaintext. Evidence
files are not: they are encrypted like every other upload (see app.services.plan.evidence)."""
import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, str_enum, utcnow


class IndicatorKind(enum.Enum):
    COUNT = "count"
    YES_NO = "yes_no"
    PERCENT = "percent"
    AMOUNT_LEI = "amount_lei"
    TEXT = "text"


class MeasureStatus(enum.Enum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    ONGOING = "ongoing"  # permanent measure, carried out and continuing
    NOT_IMPLEMENTED = "not_implemented"  # with the reason


class Change(enum.Enum):
    LOADED = "loaded"  # from a data file or an import: the plan as adopted
    INTRODUCED = "introduced"
    REVISED = "revised"
    RETIRED = "retired"


class Plan(Model):
    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    adopted_on: Mapped[date | None] = mapped_column(Date)
    # Measure 1.4: shown on the institution's public page, with the statuses if chosen.
    published: Mapped[bool] = mapped_column(default=False)
    publish_status: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    objectives: Mapped[list["PlanObjective"]] = relationship(
        back_populates="plan", order_by="PlanObjective.number", cascade="all, delete-orphan")


class PlanObjective(Model):
    __tablename__ = "plan_objective"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(Text)

    plan: Mapped[Plan] = relationship(back_populates="objectives")
    measures: Mapped[list["PlanMeasure"]] = relationship(
        back_populates="objective", order_by="PlanMeasure.position")


class PlanMeasure(Model):
    __tablename__ = "plan_measure"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("plan_objective.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    footnote: Mapped[str | None] = mapped_column(Text)
    # Lists of texts, as the plan's cells list them.
    risks: Mapped[list] = mapped_column(JSON, default=list)
    sources: Mapped[list] = mapped_column(JSON, default=list)
    responsible: Mapped[list] = mapped_column(JSON, default=list)  # named offices, as written
    deadline: Mapped[str | None] = mapped_column(String(100))  # as written: "Anual", "Mai 2022"
    budget: Mapped[str | None] = mapped_column(Text)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    objective: Mapped[PlanObjective] = relationship(back_populates="measures")
    indicators: Mapped[list["PlanIndicator"]] = relationship(
        back_populates="measure", order_by="PlanIndicator.position",
        cascade="all, delete-orphan")


class PlanIndicator(Model):
    __tablename__ = "plan_indicator"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("plan_measure.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(Text)
    kind: Mapped[IndicatorKind] = mapped_column(str_enum(IndicatorKind))
    # The name of a figure the portal computes (app.services.plan.computed), or None: typed.
    computed: Mapped[str | None] = mapped_column(String(64))
    retired: Mapped[bool] = mapped_column(default=False)

    measure: Mapped[PlanMeasure] = relationship(back_populates="indicators")


class MeasureVersion(Model):
    """One change to a measure: who, when, what (old and new value per field) and the whole
    measure after it, so any year's plan can be told."""

    __tablename__ = "plan_measure_version"
    __table_args__ = (UniqueConstraint("measure_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("plan_measure.id"), index=True)
    number: Mapped[int]
    change: Mapped[Change] = mapped_column(str_enum(Change))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    changed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class MeasureAssignee(Model):
    """A staff account responsible for a measure (besides the offices the plan names)."""

    __tablename__ = "plan_measure_assignee"
    __table_args__ = (UniqueConstraint("measure_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("plan_measure.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)


class MeasureYear(Model):
    __tablename__ = "plan_measure_year"
    __table_args__ = (UniqueConstraint("measure_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("plan_measure.id"), index=True)
    year: Mapped[int]
    status: Mapped[MeasureStatus] = mapped_column(str_enum(MeasureStatus))
    reason: Mapped[str | None] = mapped_column(Text)  # why not implemented
    updated_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProgressEntry(Model):
    __tablename__ = "plan_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("plan_measure.id"), index=True)
    year: Mapped[int]
    happened_on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IndicatorValue(Model):
    """A value typed for one year by the person responsible (computed values are not stored:
    they are counted from the portal's records when shown)."""

    __tablename__ = "plan_indicator_value"
    __table_args__ = (UniqueConstraint("indicator_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("plan_indicator.id"), index=True)
    year: Mapped[int]
    value: Mapped[str] = mapped_column(String(500))
    entered_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlanEvidence(Model):
    """A verification document (approved act, minutes, attendance list), encrypted on disk;
    its name and type are encrypted too. Public only when marked so."""

    __tablename__ = "plan_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("plan_measure.id"), index=True)
    year: Mapped[int]
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    wrapped_file_key: Mapped[bytes] = mapped_column(LargeBinary)
    meta: Mapped[bytes] = mapped_column(LargeBinary)
    public: Mapped[bool] = mapped_column(default=False)
    uploaded_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OpenDataPublication(Model):
    """A data set published on data.gov.ro or elsewhere (measure 3.2), with its address."""

    __tablename__ = "open_data_publication"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(500))
    published_on: Mapped[date] = mapped_column(Date)
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

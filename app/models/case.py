"""A report and its plaintext metadata; everything the reporter typed is in `content`."""
import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, str_enum, utcnow


class Channel(enum.Enum):
    WEB = "web"
    EMAIL = "email"
    PHONE = "phone"
    IN_PERSON = "in_person"
    POST = "post"
    SOCIAL_MEDIA = "social_media"
    BOX = "box"
    OTHER = "other"


class Platform(enum.Enum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    YOUTUBE = "youtube"
    TIKTOK = "tiktok"
    OTHER = "other"


class Category(enum.Enum):
    BRIBERY = "bribery"
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    ABUSE_OF_OFFICE = "abuse_of_office"
    PUBLIC_PROCUREMENT = "public_procurement"
    MISUSE_OF_FUNDS = "misuse_of_funds"
    FAVOURITISM_IN_HIRING = "favouritism_in_hiring"
    INCOMPATIBILITY = "incompatibility"
    OTHER = "other"


class Regime(enum.Enum):
    WHISTLEBLOWER = "whistleblower"  # Law 361/2022
    PETITION = "petition"  # OG 27/2002
    FORWARDED = "forwarded"


class Status(enum.Enum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ASSESSMENT = "assessment"
    INVESTIGATION = "investigation"
    CLOSED = "closed"


class Outcome(enum.Enum):
    SUBSTANTIATED = "substantiated"
    PARTIALLY_SUBSTANTIATED = "partially_substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    DISMISSED = "dismissed"
    FORWARDED = "forwarded"


class EventKind(enum.StrEnum):
    """What a case event records. The statistics find closings by these values
    (services/indicators/clocks.py), so a stored value never changes."""

    RECEIVED = "received"
    TRIAGED = "triaged"
    ACKNOWLEDGED = "acknowledged"
    STATUS_CHANGED = "status_changed"
    CLOSED = "closed"
    FORWARDED = "forwarded"
    EXTENDED = "extended"
    REOPENED = "reopened"
    ASSIGNED = "assigned"
    REPORTER_MESSAGE = "reporter_message"
    REPORT_REDACTED = "report_redacted"
    MESSAGE_REDACTED = "message_redacted"
    FILE_DELETED = "file_deleted"
    MEETING_REQUESTED = "meeting_requested"
    MINUTES_RECORDED = "minutes_recorded"
    MINUTES_SIGNED = "minutes_signed"
    # The reporter agreed that their identity goes to the authority a case is forwarded to.
    IDENTITY_CONSENT = "identity_consent"


# The events that end a case's examination: an acknowledgement clock still open is met there.
CLOSING_EVENTS = (EventKind.CLOSED, EventKind.FORWARDED)


class DeadlineKind(enum.StrEnum):
    """The legal clock a case's next deadline belongs to (services/casework/deadlines.py)."""

    ACKNOWLEDGE = "acknowledge"  # Law 361/2022: 7 days
    FEEDBACK = "feedback"  # Law 361/2022: 3 months
    ANSWER = "answer"  # OG 27/2002: 30 days (+15 once)
    FORWARD = "forward"  # not competent: 5 days


# What the statistics read of a case besides institution and received date (see above).
STATISTICS_COLUMNS = ("id", "channel", "platform", "category", "regime", "status", "outcome",
                      "anonymous", "recorded_by_staff_id", "acknowledge_due_at",
                      "acknowledged_at", "answer_due_at", "extended_at", "forward_due_at",
                      "forwarded_at")


class Case(Model):
    __tablename__ = "case"
    __table_args__ = (
        UniqueConstraint("institution_id", "reference"),
        # Statistics aggregate one institution's cases by received date (see
        # services/indicators/compute). On PostgreSQL the index also carries every column
        # the received-in-period pass and the legal clocks read, so they scan the index alone
        # instead of one heap page per case (bench/scale.py, migration 0014_x).
        Index("ix_case_institution_received", "institution_id", "received_at",
              postgresql_include=list(STATISTICS_COLUMNS)),
        Index("ix_case_institution_status", "institution_id", "status"),
        # The inbox walks this index in order and stops after one page; "overdue now" of the
        # statistics reads the kind from it too.
        Index("ix_case_institution_deadline", "institution_id", "next_deadline_at", "id",
              postgresql_include=["next_deadline_kind"]),
        # The feedback clock of the statistics selects by due date, not by received date.
        Index("ix_case_institution_feedback_due", "institution_id", "feedback_due_at",
              postgresql_include=["regime", "received_at", "acknowledged_at", "id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    reference: Mapped[str] = mapped_column(String(32))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    platform: Mapped[Platform | None] = mapped_column(str_enum(Platform))
    category: Mapped[Category] = mapped_column(str_enum(Category))
    # The reporter's answer to "did you learn of it at work?": it suggests Law 361/2022 or
    # OG 27/2002 at triage. A yes/no choice, not free text.
    work_context: Mapped[bool]
    regime: Mapped[Regime | None] = mapped_column(str_enum(Regime))
    status: Mapped[Status] = mapped_column(str_enum(Status), default=Status.RECEIVED)
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome))
    anonymous: Mapped[bool]
    language: Mapped[str] = mapped_column(String(8))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledge_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Law 361/2022: feedback within 3 months of acknowledgement (or of the 7 days' end).
    feedback_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the reporter first had feedback (see services/casework/deadlines.py): the 3-month clock
    # stops here, in the inbox, on the case page and in the statistics alike.
    feedback_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # OG 27/2002: answer within 30 days, once extended by 15 with a reason.
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Not competent: forward within 5 days, and record where and when.
    forward_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forwarded_to: Mapped[str | None] = mapped_column(String(200))
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The earliest open legal deadline, kept up to date by the workflow so the inbox can sort
    # and filter 100,000 cases with an index instead of computing per row.
    next_deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_deadline_kind: Mapped[DeadlineKind | None] = mapped_column(str_enum(DeadlineKind, 16))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Retention: content, keys, files and identity deleted; the metadata stays for statistics.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    # Manual intake: who recorded it, and for oral reports whether the reporter checked and
    # signed the transcript or minutes.
    recorded_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    reporter_signed: Mapped[bool | None]
    # When the reporter last wrote (a timestamp, no content): handlers who have not opened
    # the case since see it marked as unread (see message.CaseSeen).
    reporter_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The reporter asked to meet or talk and no minutes are recorded yet: the inbox marks it
    # without decrypting anything. It says only that a meeting was asked for, which the
    # history's events show every handler anyway; the preferred days and way stay in the
    # encrypted report or message (services/casework/meetings.py).
    meeting_requested: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    # AES-256-GCM under the case key (AAD case:<uuid>:report): the reporter's answers as JSON.
    # None once the retention period has passed and the case was purged.
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    # AES-256-GCM under the identity key (AAD case:<uuid>:identity); None when anonymous.
    identity: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The reporter's e-mail for "there is an update" notices, under the case key
    # (AAD case:<uuid>:notify). Used by the mail service only; never shown.
    notify: Mapped[bytes | None] = mapped_column(LargeBinary)

    events: Mapped[list["CaseEvent"]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )


class CaseEvent(Model):
    """Every transition of a case, with its time and actor (none for the reporter)."""

    __tablename__ = "case_event"
    # The legal clocks look up each case's first closing: kind and time from the index alone.
    __table_args__ = (Index("ix_case_event_case_id", "case_id",
                            postgresql_include=["kind", "at"]),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, 40))
    # Plain metadata of the transition (statuses, regime, outcome, dates), never content.
    detail: Mapped[str | None] = mapped_column(Text)
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")

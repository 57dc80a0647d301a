import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, str_enum, utcnow


class OutreachPlatform(enum.Enum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    YOUTUBE = "youtube"
    TIKTOK = "tiktok"
    WEBSITE = "website"
    NEWSLETTER = "newsletter"
    LEAFLET = "leaflet"  # leaflet or poster
    PUBLIC_MEETING = "public_meeting"
    OTHER = "other"


class OutreachKind(enum.Enum):
    POST = "post"  # a preventive message or post (measure 2.2, third indicator)
    ACTIVITY = "activity"  # an awareness activity with participants (measure 2.1)


class OutreachKitItem(enum.Enum):
    """The outreach-kit item a post used (app/documents/outreach_kit.py makes them)."""

    POSTER = "poster"
    LEAFLET = "leaflet"
    SOCIAL_IMAGE = "social_image"


class OutreachItem(Model):
    """A preventive message, post or awareness activity, logged by the coordinator."""

    __tablename__ = "outreach_item"
    __table_args__ = (Index("ix_outreach_institution_date", "institution_id", "published_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    kind: Mapped[OutreachKind] = mapped_column(str_enum(OutreachKind))
    platform: Mapped[OutreachPlatform] = mapped_column(str_enum(OutreachPlatform))
    published_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(500))
    audience: Mapped[int | None]  # people reached, when known
    participants: Mapped[int | None]  # for awareness activities
    # Measure 2.1's fourth indicator: what the participants said, in a few words.
    feedback: Mapped[str | None] = mapped_column(Text)
    # Measure 2.2: which item of the portal's outreach kit the post used, if any.
    kit_item: Mapped[OutreachKitItem | None] = mapped_column(str_enum(OutreachKitItem, 16))
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class UsageCounter(Model):
    """Daily counts of portal use (measure 2.3: users of digitalised services). Counts only:
    nothing about who did it."""

    __tablename__ = "usage_counter"
    __table_args__ = (Index("uq_usage_counter_day", "institution_id", "day", "kind",
                            unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))  # "report_submitted", "follow_up_login"
    count: Mapped[int] = mapped_column(default=0)

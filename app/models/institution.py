import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, str_enum, utcnow


class IdentityPolicy(enum.StrEnum):
    """Who holds the key to a reporter's identity (DESIGN.md, "Identity key")."""

    DIRECT = "direct"  # the case's handlers, after a reasoned, audited reveal
    CUSTODIAN = "custodian"  # custodians only; a handler asks, a custodian approves


class Institution(Model):
    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # Public half of the offline recovery key; the private half exists only on paper.
    recovery_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Receipts are looked up by Argon2id(receipt, receipt_salt): one salt per institution.
    receipt_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    # `direct`: identity sealed to the case's handlers, shown after a reasoned, audited
    # reveal. `custodian`: sealed to custodians, who approve a handler's request.
    identity_policy: Mapped[IdentityPolicy] = mapped_column(str_enum(IdentityPolicy, 16),
                                                            default=IdentityPolicy.DIRECT)
    retention_years: Mapped[int] = mapped_column(default=5)
    acknowledge_reminder_days: Mapped[int] = mapped_column(default=2)
    answer_reminder_days: Mapped[int] = mapped_column(default=14)
    mail_sender: Mapped[str | None] = mapped_column(String(254))
    # Categories of the fixed list that the report form does not offer (comma-separated).
    disabled_categories: Mapped[str] = mapped_column(String(300), default="")
    # Public identifiers, so that open data from many institutions can be combined: the
    # SIRUTA code of the administrative unit and the fiscal code (CUI).
    siruta_code: Mapped[str | None] = mapped_column(String(6))
    cui: Mapped[str | None] = mapped_column(String(10))
    # What a shared portal shows to find the institution and to report to it by other
    # channels (Law 361/2022 art. 15: phone, post, in person); all public, none secret.
    county: Mapped[str | None] = mapped_column(String(40), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(40))
    office_hours: Mapped[str | None] = mapped_column(String(200))
    public_email: Mapped[str | None] = mapped_column(String(254))
    dpo_contact: Mapped[str | None] = mapped_column(String(300))
    # A small PNG or SVG shown on the institution's pages (checked and capped on upload).
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_mime: Mapped[str | None] = mapped_column(String(20))
    # Its own host name, when it has one (canal.baltati.ro); else only /<slug>/ is used.
    host: Mapped[str | None] = mapped_column(String(253), unique=True)
    # Set by the platform operator: a suspended institution's public pages say so and accept
    # no reports; its staff can still sign in and work on open cases.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReferenceCounter(Model):
    """Last reference number handed out per institution and year (SES-<year>-<seq>)."""

    __tablename__ = "reference_counter"
    __table_args__ = (UniqueConstraint("institution_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    year: Mapped[int]
    last_value: Mapped[int] = mapped_column(default=0)

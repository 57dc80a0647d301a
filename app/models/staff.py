import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint, select
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, str_enum, utcnow


class PlatformRole(enum.StrEnum):
    OPERATOR = "operator"
    OBSERVER = "observer"


class Role(enum.Enum):
    HANDLER = "handler"
    COORDINATOR = "coordinator"
    CUSTODIAN = "custodian"
    ADMIN = "admin"
    # Sees and fills in the integrity plan (its measures, what is due); never cases.
    PLAN_CONTRIBUTOR = "plan_contributor"


# The roles that receive case or identity keys.
READER_ROLES = (Role.HANDLER, Role.CUSTODIAN)
# Roles that need a second person's confirmation: the readers, and the admin (who confirms).
TRUSTED_ROLES = (*READER_ROLES, Role.ADMIN)


class StaffAccount(Model):
    """A person who signs in: one e-mail, one password, one key pair, one TOTP, whatever the
    number of institutions they serve (a designated person shared by several communes, Law
    361/2022 art. 10). Their place in each institution (roles, confirmation) is a StaffMember.
    The account id is the one the TOTP secret's and the device cookie's bindings name."""

    __tablename__ = "staff_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Argon2id(password) split into a verifier and the key that wraps the private key.
    password_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    password_kdf: Mapped[str] = mapped_column(String(64))
    password_verifier: Mapped[bytes] = mapped_column(LargeBinary(32))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    # TOTP (RFC 6238) secret, encrypted under a key derived from SECRET_KEY; None until
    # enrolment. The last accepted time step stops a code from being used twice.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A platform role, for accounts of the deployment rather than of an institution: the
    # operator (creates, suspends and removes institutions; sees counts only) and observers
    # (a county, an association or the ministry: suppressed indicators of a group).
    platform_role: Mapped[PlatformRole | None] = mapped_column(str_enum(PlatformRole, 16))
    # An observer's group: "*" (every institution), "county:<name>" or "ids:<id>,<id>…".
    observer_scope: Mapped[str | None] = mapped_column(String(2000))

    memberships: Mapped[list["StaffMember"]] = relationship(
        back_populates="account", order_by="StaffMember.institution_id")


class StaffMember(Model):
    """A person's place in one institution: their roles there and who confirmed them. Case and
    identity keys are sealed to the account's public key, one wrap per membership."""

    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("institution_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"), index=True)
    # Comma-separated Role values; one person may hold several roles.
    roles: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The trusted roles (handler, custodian, admin: who reads cases or identities, and who can
    # confirm others) count only once a second person confirmed the account (see
    # app.services.staff.accounts.confirm). Accounts made on the command line (setup, demo, `staff
    # add`) are confirmed by the operator who ran it; an activated invitation, or a trusted
    # role given on the staff page, waits here as None.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_by_staff_id: Mapped[int | None]
    # Who proposed the trusted role (the inviter, or the admin who changed the roles): they may
    # not confirm it themself.
    proposed_by_staff_id: Mapped[int | None]

    account: Mapped[StaffAccount] = relationship(back_populates="memberships", lazy="joined")

    # The person, as every page names them; the credentials stay on the account. In SQL
    # (filters, order) they read the account's column.
    @hybrid_property
    def email(self) -> str:
        return self.account.email

    @email.inplace.expression
    @classmethod
    def _email_expression(cls):
        return select(StaffAccount.email).where(
            StaffAccount.id == cls.account_id).scalar_subquery()

    @hybrid_property
    def name(self) -> str:
        return self.account.name

    @name.inplace.expression
    @classmethod
    def _name_expression(cls):
        return select(StaffAccount.name).where(
            StaffAccount.id == cls.account_id).scalar_subquery()

    @property
    def public_key(self) -> bytes:
        return self.account.public_key

    # Flask-Login's user protocol; the session itself lives in StaffSession.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)

    def has_role(self, role: Role) -> bool:
        """Holds the role and may use it: a trusted role counts only once confirmed."""
        return self.holds_role(role) and (role not in TRUSTED_ROLES or self.confirmed)

    def holds_role(self, role: Role) -> bool:
        """The role is assigned (confirmed or not)."""
        return role.value in self.roles.split(",")

    @property
    def is_reader(self) -> bool:
        """Assigned a role that reads cases or identities (whether confirmed or not)."""
        return any(self.holds_role(role) for role in READER_ROLES)

    @property
    def is_trusted(self) -> bool:
        return any(self.holds_role(role) for role in TRUSTED_ROLES)

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def awaiting_confirmation(self) -> bool:
        return self.is_trusted and not self.confirmed

    @property
    def role_list(self) -> list[Role]:
        return [Role(value) for value in self.roles.split(",") if value]

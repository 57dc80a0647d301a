import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class Role(enum.Enum):
    HANDLER = "handler"
    COORDINATOR = "coordinator"
    CUSTODIAN = "custodian"
    ADMIN = "admin"


class StaffMember(db.Model):
    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("institution_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    # Comma-separated Role values; one person may hold several roles.
    roles: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
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

    # Flask-Login's user protocol; the session itself lives in StaffSession.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles.split(",")

    @property
    def role_list(self) -> list[Role]:
        return [Role(value) for value in self.roles.split(",") if value]

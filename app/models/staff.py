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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles.split(",")

    @property
    def role_list(self) -> list[Role]:
        return [Role(value) for value in self.roles.split(",") if value]

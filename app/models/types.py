"""Column types shared by the models."""
import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in Python; naive UTC in the database (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def str_enum(enum_class: type[enum.Enum], length: int = 32) -> Enum:
    """Store an enum by its value as plain text, portable across databases. `length` keeps the
    width of a column that held the same values as plain strings before it became an enum."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )

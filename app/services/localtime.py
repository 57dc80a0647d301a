"""Romania's clock. Timestamps are stored in UTC; whatever a person reads as a date, or a
deadline counts in days, is a day in Europe/Bucharest, whatever zone the server runs in."""
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from ..models.types import utcnow

LOCAL_ZONE = ZoneInfo("Europe/Bucharest")


def local_today(now: datetime | None = None) -> date:
    """Today's date in Romania (at 23:30 UTC on 31 December it is already 1 January)."""
    return (now or utcnow()).astimezone(LOCAL_ZONE).date()


def local_date(moment: datetime) -> date:
    """The Romanian calendar day of a stored (UTC) timestamp."""
    return moment.astimezone(LOCAL_ZONE).date()


def local_noon(day: date) -> datetime:
    """Noon of a Romanian day, in UTC: a day given without a time, stored unambiguously."""
    return datetime.combine(day, time(12), tzinfo=LOCAL_ZONE).astimezone(UTC)

"""Reporting periods on the institution's calendar.

A period is a run of whole local days in Europe/Bucharest: a year, a quarter, a month or a
custom range. Cases are stored with UTC timestamps, so a period is turned into the half-open
UTC interval [first local midnight, midnight after the last local day): a report made at
23:30 on 31 December in Bălțați (21:30 UTC) belongs to December and to that year, and one made
at 00:30 on 1 January (22:30 UTC the evening before) to January of the next. Daylight saving
time is handled by the zone database, so a month is exactly its local days.
"""
import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from ..errors import DomainError

LOCAL_ZONE = ZoneInfo("Europe/Bucharest")
EARLIEST_YEAR = 2000
LONGEST_RANGE = timedelta(days=366 * 10)
YEAR, QUARTER, MONTH, RANGE = "year", "quarter", "month", "range"


class PeriodRefused(DomainError):
    pass


def local_midnight_utc(day: date) -> datetime:
    """The UTC instant at which `day` begins in Bălțați."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_ZONE).astimezone(UTC)


def local_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(LOCAL_ZONE).date()


@dataclass(frozen=True)
class Period:
    kind: str
    first_day: date  # inclusive, local
    last_day: date  # inclusive, local

    @classmethod
    def year(cls, year: int) -> "Period":
        _check_year(year)
        return cls(YEAR, date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> "Period":
        _check_year(year)
        if quarter not in (1, 2, 3, 4):
            raise PeriodRefused(_l("Choose a quarter from 1 to 4."), field="quarter")
        first_month = 3 * (quarter - 1) + 1
        last_month = first_month + 2
        return cls(QUARTER, date(year, first_month, 1),
                   date(year, last_month, calendar.monthrange(year, last_month)[1]))

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        _check_year(year)
        if not 1 <= month <= 12:
            raise PeriodRefused(_l("Choose a month from 1 to 12."), field="month")
        return cls(MONTH, date(year, month, 1),
                   date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def between(cls, first_day: date, last_day: date) -> "Period":
        if first_day > last_day:
            raise PeriodRefused(_l("The end date must not be before the start date."),
                                field="end")
        if first_day.year < EARLIEST_YEAR:
            raise PeriodRefused(_l("Choose a date from %(year)d on.", year=EARLIEST_YEAR),
                                field="start")
        if last_day - first_day > LONGEST_RANGE:
            raise PeriodRefused(_l("Choose a range of at most ten years."), field="end")
        return cls(RANGE, first_day, last_day)

    @property
    def start_utc(self) -> datetime:
        return local_midnight_utc(self.first_day)

    @property
    def end_utc(self) -> datetime:
        """Exclusive: the first instant after the period."""
        return local_midnight_utc(self.last_day + timedelta(days=1))

    @property
    def code(self) -> str:
        """Machine-readable, for file names and the CSV's period column (ISO 8601 style)."""
        if self.kind == YEAR:
            return f"{self.first_day.year}"
        if self.kind == QUARTER:
            return f"{self.first_day.year}-Q{(self.first_day.month - 1) // 3 + 1}"
        if self.kind == MONTH:
            return f"{self.first_day.year}-{self.first_day.month:02d}"
        return f"{self.first_day.isoformat()}/{self.last_day.isoformat()}"

    def previous(self) -> "Period":
        """The period of the same kind just before (the year before, for a range)."""
        if self.kind == YEAR:
            return Period.year(self.first_day.year - 1)
        if self.kind == QUARTER:
            quarter = (self.first_day.month - 1) // 3 + 1
            year = self.first_day.year - (quarter == 1)
            return Period.quarter(year, 4 if quarter == 1 else quarter - 1)
        if self.kind == MONTH:
            year = self.first_day.year - (self.first_day.month == 1)
            return Period.month(year, 12 if self.first_day.month == 1 else
                                self.first_day.month - 1)
        length = self.last_day - self.first_day
        return Period.between(self.first_day - length - timedelta(days=1),
                              self.first_day - timedelta(days=1))

    def months(self) -> list[tuple[str, datetime, datetime]]:
        """The local calendar months the period touches, clipped to it: (YYYY-MM, UTC start,
        UTC end) — the buckets of the month-by-month trend."""
        buckets = []
        day = self.first_day
        while day <= self.last_day:
            month_end = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
            last = min(month_end, self.last_day)
            buckets.append((f"{day.year}-{day.month:02d}", local_midnight_utc(day),
                            local_midnight_utc(last + timedelta(days=1))))
            day = last + timedelta(days=1)
        return buckets

    def is_complete(self, now: datetime | None = None) -> bool:
        return self.end_utc <= (now or datetime.now(UTC))


def _check_year(year: int) -> None:
    if not EARLIEST_YEAR <= year <= 9998:
        raise PeriodRefused(_l("Choose a year from %(year)d on.", year=EARLIEST_YEAR),
                            field="year")


def current_year(now: datetime | None = None) -> Period:
    return Period.year(local_today(now).year)

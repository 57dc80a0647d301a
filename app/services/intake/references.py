"""Reference numbers SES-<year>-<seq>, sequential per institution and year.

The counter row is incremented with a single UPDATE: the database's row lock makes concurrent
submissions wait for one another, so two reports never share a number. The year is the local
year in Europe/Bucharest: a report made at 00:30 on 1 January is numbered in the new year. The first report of a
year inserts the row inside a savepoint; a concurrent insert that loses the race retries the
UPDATE.
"""
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import ReferenceCounter
from ..indicators.periods import local_today

PREFIX = "SES"


def format_reference(year: int, seq: int) -> str:
    return f"{PREFIX}-{year}-{seq:04d}"


def _increment(institution_id: int, year: int) -> int | None:
    result = db.session.execute(
        update(ReferenceCounter)
        .where(ReferenceCounter.institution_id == institution_id, ReferenceCounter.year == year)
        .values(last_value=ReferenceCounter.last_value + 1)
        .returning(ReferenceCounter.last_value)
    )
    return result.scalar_one_or_none()


def reference_year(moment: datetime | int) -> int:
    """The local calendar year of a moment (a plain year is taken as given)."""
    return moment if isinstance(moment, int) else local_today(moment).year


def next_reference(institution_id: int, year: datetime | int) -> str:
    """The next number of the year; `year` may be the moment of receipt (its local year)."""
    year = reference_year(year)
    seq = _increment(institution_id, year)
    if seq is None:
        try:
            with db.session.begin_nested():
                db.session.add(ReferenceCounter(institution_id=institution_id, year=year,
                                                last_value=1))
            seq = 1
        except IntegrityError:
            seq = _increment(institution_id, year)
    if seq is None:  # the insert was refused because the counter row exists
        raise RuntimeError(f"reference counter {institution_id}/{year} vanished")
    return format_reference(year, seq)


def current_count(institution_id: int, year: int) -> int:
    value = db.session.scalar(
        select(ReferenceCounter.last_value).where(
            ReferenceCounter.institution_id == institution_id, ReferenceCounter.year == year
        )
    )
    return value or 0

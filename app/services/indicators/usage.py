"""Counting portal use per day (measure 2.3), without recording anything about who.

A day is a local day in Europe/Bucharest, like every period of the statistics: a sign-in at
00:30 on 1 January counts in January, not on 31 December (UTC)."""
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import UsageCounter
from .periods import local_today

REPORT_SUBMITTED = "report_submitted"
FOLLOW_UP_LOGIN = "follow_up_login"


def count(institution_id: int, kind: str, now: datetime | None = None) -> None:
    day = local_today(now)
    statement = (update(UsageCounter)
                 .where(UsageCounter.institution_id == institution_id,
                        UsageCounter.day == day, UsageCounter.kind == kind)
                 .values(count=UsageCounter.count + 1))
    if db.session.execute(statement).rowcount:  # type: ignore[attr-defined]  # a CursorResult, typed as Result
        return
    try:
        with db.session.begin_nested():
            db.session.add(UsageCounter(institution_id=institution_id, day=day, kind=kind,
                                        count=1))
    except IntegrityError:
        db.session.execute(statement)

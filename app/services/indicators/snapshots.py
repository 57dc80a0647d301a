"""A materialised summary of the group figures: each institution's exact indicators for a
completed year, kept as JSON counts in IndicatorSnapshot.

Why: a county, or the country, for a year is one grouped pass over that year's cases, which
grows with them (bench/scale.py: about 2.5 s for 3,200 institutions at 1,000,000 cases, ten
times that at 10,000,000). A completed year changes only as its old cases close, so its
figures are computed once a night (`flask opendata refresh`, from cron beside `jobs run`)
and read back as 3,200 small rows.

Rules:
- Only completed periods are kept; the current year is always computed live.
- A snapshot is used while it is younger than GROUP_SNAPSHOT_MAX_AGE_HOURS (default 26: a
  nightly refresh with some slack); older or missing institutions are computed live, in one
  grouped pass over just those institutions, and the result is not written by a page view.
- The figures say when they were computed (generated_at is the oldest snapshot used), so a
  page shows "figures as of …".
- The coordinator's own dashboard never reads snapshots: it is exact and live.
"""
import json
from collections import OrderedDict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, insert, select

from ...extensions import db
from ...models import IndicatorSnapshot
from .clocks import Compliance
from .compute import Breakdown, Indicators, Outreach
from .periods import Period

BREAKDOWNS = ("by_channel", "by_platform", "by_category", "by_regime", "by_status",
              "by_outcome", "by_anonymity", "by_origin", "by_month", "overdue_now", "usage")
CLOCKS = ("acknowledgement", "feedback", "answer", "forwarding")
DEFAULT_MAX_AGE_HOURS = 26


def _breakdown(breakdown: Breakdown) -> list:
    return [breakdown.name, list(breakdown.cells.items())]


def _from_breakdown(stored: list) -> Breakdown:
    name, cells = stored
    return Breakdown(name, OrderedDict((key, value) for key, value in cells))


def to_json(figures: Indicators) -> str:
    outreach = figures.outreach
    return json.dumps({
        "received": figures.received,
        "breakdowns": {name: _breakdown(getattr(figures, name)) for name in BREAKDOWNS},
        "clocks": {name: [clock.name, list(clock.cells.items()), clock.median_days,
                          clock.measured]
                   for name, clock in ((name, getattr(figures, name)) for name in CLOCKS)},
        "outreach": [_breakdown(outreach.posts), outreach.post_audience, outreach.activities,
                     outreach.participants, _breakdown(outreach.activities_by_platform)],
    }, separators=(",", ":"))


def from_json(text: str, institution_id: int, period: Period, computed_at: datetime
              ) -> Indicators:
    stored = json.loads(text)
    posts, audience, activities, participants, by_platform = stored["outreach"]
    clocks: dict = {name: Compliance(clock_name, OrderedDict((key, value) for key, value in cells),
                               median, measured)
              for name, (clock_name, cells, median, measured) in stored["clocks"].items()}
    breakdowns: dict = {name: _from_breakdown(value) for name, value in stored["breakdowns"].items()}
    return Indicators(
        institution_id=institution_id, period=period, generated_at=computed_at,
        received=stored["received"],
        outreach=Outreach(posts=_from_breakdown(posts), post_audience=audience,
                          activities=activities, participants=participants,
                          activities_by_platform=_from_breakdown(by_platform)),
        **breakdowns, **clocks)


def max_age() -> timedelta:
    return timedelta(hours=float(current_app.config.get("GROUP_SNAPSHOT_MAX_AGE_HOURS",
                                                        DEFAULT_MAX_AGE_HOURS)))


def kept(institution_ids: list[int] | None, period: Period, now: datetime
         ) -> dict[int, Indicators]:
    """The fresh snapshots of these institutions (None: of every institution)."""
    if not period.is_complete(now):
        return {}
    statement = select(IndicatorSnapshot.institution_id, IndicatorSnapshot.computed_at,
                       IndicatorSnapshot.figures).where(
        IndicatorSnapshot.period_code == period.code,
        IndicatorSnapshot.computed_at >= now - max_age())
    if institution_ids is not None:
        statement = statement.where(IndicatorSnapshot.institution_id.in_(institution_ids))
    return {institution_id: from_json(figures, institution_id, period, computed_at)
            for institution_id, computed_at, figures in db.session.execute(statement)}


def store(rows: dict[int, Indicators], period: Period, now: datetime) -> int:
    """Replace the snapshots of these institutions for the period (flush only)."""
    if not rows:
        return 0
    ids = list(rows)
    for start in range(0, len(ids), 1000):
        db.session.execute(delete(IndicatorSnapshot).where(
            IndicatorSnapshot.period_code == period.code,
            IndicatorSnapshot.institution_id.in_(ids[start:start + 1000])))
    db.session.execute(insert(IndicatorSnapshot), [
        {"institution_id": institution_id, "period_code": period.code, "computed_at": now,
         "figures": to_json(figures)} for institution_id, figures in rows.items()])
    return len(rows)

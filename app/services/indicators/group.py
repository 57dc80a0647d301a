"""The integrity-plan indicators of a group of institutions: a county, an association (an
explicit list) or every institution of the deployment, for one period.

Exact figures, from metadata only, as compute.py defines them for one institution: the same
conditions are counted per institution in one pass over the group's cases (group_queries.py,
GROUP BY institution_id), never one query per institution. What a group publishes, with
small counts suppressed across institutions, is group_public.py's; who has not reported is
adoption.py's. Nothing here checks a role: an observer's view (a county, an association, the
ministry) is wired to these functions by its caller, which decides the group it may see.

    group = county_group("Buzău")            # or list_group([...], "ADI Valea Buzăului"),
    figures = group_indicators(group, Period.year(2025))    # all_institutions()
    figures.rows[institution_id]             # an Indicators per institution, zeros included
    figures.totals                           # the group's exact sums (an Indicators)
"""
import gc
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property

from sqlalchemy import func, select

from ...extensions import db
from ...models import Institution
from ...models.types import utcnow
from . import snapshots
from .clocks import Compliance
from .compute import Breakdown, Indicators, Outreach
from .group_queries import GroupScope, grouped_indicators
from .periods import Period
from .snapshots import BREAKDOWNS, CLOCKS

COUNTY, ASSOCIATION, EVERYONE = "county", "association", "all"


@dataclass(frozen=True)
class Member:
    """What a group shows of one institution: public identifiers only (no logo, no keys)."""

    id: int
    name: str
    slug: str
    county: str | None
    siruta_code: str | None
    cui: str | None
    suspended: bool
    suppression_threshold: int | None = None


@dataclass(frozen=True)
class Group:
    kind: str  # COUNTY, ASSOCIATION or EVERYONE
    label: str  # the county's name, the association's name, or "all"
    members: tuple[Member, ...]

    @property
    def ids(self) -> list[int]:
        return [member.id for member in self.members]

    @property
    def scope(self) -> GroupScope:
        return GroupScope(everyone=self.kind == EVERYONE, ids=tuple(self.ids))


@dataclass
class GroupIndicators:
    group: Group
    period: Period
    generated_at: datetime
    rows: "OrderedDict[int, Indicators]"  # per institution, in the group's order

    @cached_property
    def totals(self) -> Indicators:
        """The exact sums (medians are not sums: None); worked out when first asked for,
        since the public figures never use them (group_public.py adds published ones)."""
        with paused_gc():
            return sum_indicators(list(self.rows.values()), self.period, self.generated_at)


_MEMBER_COLUMNS = (Institution.id, Institution.name, Institution.slug, Institution.county,
                   Institution.siruta_code, Institution.cui, Institution.suspended_at)


def _members(condition=None) -> tuple[Member, ...]:
    statement = select(*_MEMBER_COLUMNS).order_by(Institution.county, Institution.name,
                                                  Institution.id)
    if condition is not None:
        statement = statement.where(condition)
    return tuple(Member(id=row.id, name=row.name, slug=row.slug, county=row.county,
                        siruta_code=row.siruta_code, cui=row.cui,
                        suspended=row.suspended_at is not None)
                 for row in db.session.execute(statement))


def county_group(county: str) -> Group:
    """Every institution of a county (as Institution.county spells it)."""
    return Group(COUNTY, county, _members(Institution.county == county))


def list_group(institution_ids: Iterable[int], label: str) -> Group:
    """An association, or any explicit list of institutions (unknown ids are left out)."""
    ids = sorted(set(institution_ids))
    return Group(ASSOCIATION, label, _members(Institution.id.in_(ids)) if ids else ())


def all_institutions() -> Group:
    return Group(EVERYONE, EVERYONE, _members())


def counties() -> list[tuple[str, int]]:
    """(county, number of institutions), by name; institutions with no county are left out."""
    rows = db.session.execute(
        select(Institution.county, func.count()).where(Institution.county.is_not(None))
        .group_by(Institution.county).order_by(Institution.county)).all()
    return [(str(county), int(count)) for county, count in rows]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cyclic collector, paused while a country's figures are built: its full passes
    over the hundreds of thousands of small objects just made cost six times the work itself
    (2.7 s against 0.4 s for 3,200 institutions in bench/scale.py). Nothing built here forms a
    reference cycle; reference counting frees it all as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def group_indicators(group: Group, period: Period, now: datetime | None = None, *,
                     use_snapshots: bool = True) -> GroupIndicators:
    """Exact indicators per institution of the group, and their sums. Callers that show them
    check who may see the group first, or publish group_public.public_group() instead.

    A completed period reads the institutions' fresh snapshots (snapshots.py) and computes
    the others live in one grouped pass; `generated_at` is then the oldest snapshot's time."""
    now = now or utcnow()
    with paused_gc():
        return _group_indicators(group, period, now, use_snapshots)


def _group_indicators(group: Group, period: Period, now: datetime, use_snapshots: bool
                      ) -> GroupIndicators:
    kept = snapshots.kept(None if group.kind == EVERYONE else group.ids, period, now) \
        if use_snapshots and group.members else {}
    missing = [member.id for member in group.members if member.id not in kept]
    live: dict[int, Indicators] = {}
    if missing:
        scope = group.scope if len(missing) == len(group.members) \
            else GroupScope(everyone=False, ids=tuple(missing))
        live = grouped_indicators(scope, period, now)
    rows: OrderedDict[int, Indicators] = OrderedDict()
    for member in group.members:
        rows[member.id] = kept.get(member.id) or live.get(member.id) or empty_indicators(
            member.id, period, now)
    generated_at = min((row.generated_at for row in kept.values()), default=now)
    return GroupIndicators(group=group, period=period, generated_at=generated_at, rows=rows)


def refresh_snapshots(group: Group, period: Period, now: datetime | None = None) -> int:
    """Compute the group's exact figures live and keep them as snapshots (completed periods
    only; flush only, the command commits). Returns how many institutions were kept."""
    now = now or utcnow()
    if not period.is_complete(now):
        return 0
    with paused_gc():
        figures = _group_indicators(group, period, now, use_snapshots=False)
        return snapshots.store(dict(figures.rows), period, now)


# --- sums ------------------------------------------------------------------------------------

def _zero(breakdown: Breakdown) -> Breakdown:
    return Breakdown(breakdown.name, OrderedDict((key, 0) for key in breakdown.cells))


def _add(breakdowns: list[Breakdown]) -> Breakdown:
    cells: OrderedDict[str, int] = OrderedDict()
    for breakdown in breakdowns:
        for key, value in breakdown.cells.items():
            cells[key] = cells.get(key, 0) + value
    return Breakdown(breakdowns[0].name, cells)


def _add_clocks(clocks: list[Compliance]) -> Compliance:
    cells: OrderedDict[str, int] = OrderedDict()
    for clock in clocks:
        for key, value in clock.cells.items():
            cells[key] = cells.get(key, 0) + value
    return Compliance(clocks[0].name, cells, None, sum(clock.measured for clock in clocks))


def sum_indicators(rows: list[Indicators], period: Period, now: datetime) -> Indicators:
    """The exact sums of several institutions' indicators (institution_id 0). A median is not
    a sum: the group's medians are left empty."""
    if not rows:
        return empty_indicators(0, period, now)
    summed: dict = {name: _add([getattr(row, name) for row in rows]) for name in BREAKDOWNS}
    clocks: dict = {name: _add_clocks([getattr(row, name) for row in rows]) for name in CLOCKS}
    outreach = Outreach(
        posts=_add([row.outreach.posts for row in rows]),
        post_audience=sum(row.outreach.post_audience for row in rows),
        activities=sum(row.outreach.activities for row in rows),
        participants=sum(row.outreach.participants for row in rows),
        activities_by_platform=_add([row.outreach.activities_by_platform for row in rows]))
    return Indicators(institution_id=0, period=period, generated_at=now,
                      received=sum(row.received for row in rows), outreach=outreach,
                      **summed, **clocks)


def empty_indicators(institution_id: int, period: Period, now: datetime) -> Indicators:
    """All zeros, every cell listed: an institution of the group with nothing in the period."""
    from .group_queries import empty_row

    return replace(empty_row(period, now), institution_id=institution_id)

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
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select

from ...extensions import db
from ...models import Institution
from ...models.types import utcnow
from .clocks import Compliance
from .compute import Breakdown, Indicators, Outreach
from .group_queries import GroupScope, grouped_indicators
from .periods import Period

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
    totals: Indicators = field(repr=False)  # exact sums; medians are not summed (None)


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


def group_indicators(group: Group, period: Period, now: datetime | None = None
                     ) -> GroupIndicators:
    """Exact indicators per institution of the group, and their sums. Callers that show them
    check who may see the group first, or publish group_public.public_group() instead."""
    now = now or utcnow()
    per_institution = grouped_indicators(group.scope, period, now)
    rows: OrderedDict[int, Indicators] = OrderedDict()
    for member in group.members:
        rows[member.id] = per_institution.get(member.id) or empty_indicators(
            member.id, period, now)
    return GroupIndicators(group=group, period=period, generated_at=now, rows=rows,
                           totals=sum_indicators(list(rows.values()), period, now))


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


BREAKDOWNS = ("by_channel", "by_platform", "by_category", "by_regime", "by_status",
              "by_outcome", "by_anonymity", "by_origin", "by_month", "overdue_now", "usage")
CLOCKS = ("acknowledgement", "feedback", "answer", "forwarding")


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

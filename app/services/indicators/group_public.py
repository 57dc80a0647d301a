"""What a group of institutions publishes, with small counts suppressed across institutions.

The threat: a county's total minus the figures each commune publishes on its own page gives
back the sum of the communes' hidden cells; when only one commune hides that cell, its small
count is recovered. Complementary suppression inside one group (hide a second cell when one
is hidden) does not survive the next step: an observer chooses any list of institutions, and
two lists that differ by one commune ("the county" and "the county without Bălțați") would
give that commune's count back by subtraction of the two exact totals. Rounding the total
helps only partly (a rounded total near a published sum still pins a small cell at the edge
of its range).

So the decision, for every group figure (public pages, open data, and the observer's view):

1. Each institution's own figures are exactly those of its transparency page,
   exports.public_view with its threshold (suppression.py: primary and complementary
   suppression within each of its tables).
2. A group figure is computed from those published figures only, never from the hidden
   values: `low` is the sum of the institutions' published numbers; `hidden` counts the
   institutions whose number is hidden; `high` adds, for each hidden number, the most it can
   be (T-1 for "<T"; no bound for a withheld "x", so `high` is None). The figure is exact
   (low == high) when nothing is hidden, else shown as the range "low–high" (or "≥ low").
3. Shares are published for the group only when both parts are exact; medians are not
   published for a group (a median is not a function of published medians).

Why this is sound: every group figure is a function of what the institutions already
publish, so it adds no information: whatever an attacker could infer from the group totals
together with the communes' pages, they could infer from the communes' pages alone, where
suppression.py's guarantee holds (each hidden cell keeps at least two possible values). This
holds for any number of groups, overlapping or not, which is what lets observers choose
their groups freely. tests/test_group_suppression.py checks it by enumerating every small
table: no hidden cell takes a single value among all the data sets that publish the same
group and institution figures.

The cost: a group total is a range whenever communes have small counts. The width is
stated (how many institutions' numbers are hidden), so a reader knows how sure the figure
is; the exact figures stay with each coordinator's dashboard.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from .exports import PublicIndicators, _items, public_view
from .group import Group, GroupIndicators, Member, paused_gc
from .periods import Period
from .suppression import WITHHELD, Shown, threshold_for


@dataclass(frozen=True)
class GroupFigure:
    low: int
    high: int | None  # None: no upper bound (a withheld "x" among the parts)
    hidden: int  # institutions whose number is hidden

    @property
    def exact(self) -> bool:
        return self.hidden == 0

    @property
    def text(self) -> str:
        if self.exact:
            return str(self.low)
        if self.high is None:
            return f"≥{self.low}"
        return f"{self.low}–{self.high}"


@dataclass
class PublicGroup:
    group: Group
    period: Period
    provisional: bool
    generated_at: datetime
    views: "OrderedDict[int, PublicIndicators]"  # per institution, as its own page shows it
    totals: "OrderedDict[tuple[str, str], GroupFigure]"  # (indicator, dimension) -> figure
    shares: "OrderedDict[str, float | None]" = field(default_factory=OrderedDict)
    thresholds: set[int] = field(default_factory=set)

    def member(self, institution_id: int) -> Member:
        return next(member for member in self.group.members if member.id == institution_id)

    def total(self, indicator: str, dimension: str) -> GroupFigure:
        return self.totals[(indicator, dimension)]


def _add(parts: list[tuple[object, int]]) -> GroupFigure | None:
    """The group figure of one (indicator, dimension) from each institution's published part
    and its threshold; None for shares and medians (not summed)."""
    low, hidden = 0, 0
    high: int | None = 0
    for figure, threshold in parts:
        if isinstance(figure, Shown):
            if figure.value is not None:
                low += figure.value
                if high is not None:
                    high += figure.value
            else:
                hidden += 1
                high = None if figure.text == WITHHELD or high is None \
                    else high + max(threshold - 1, 0)
        elif isinstance(figure, int):
            low += figure
            if high is not None:
                high += figure
        else:
            return None
    return GroupFigure(low, high, hidden)


def combine(views: list[tuple[PublicIndicators, int]]) -> "OrderedDict[tuple[str, str], GroupFigure]":
    """The group figures from published views only (rule 2 of this module's docstring)."""
    parts: OrderedDict[tuple[str, str], list] = OrderedDict()
    for view, threshold in views:
        for indicator, dimension, figure in _items(view):
            parts.setdefault((indicator, dimension), []).append((figure, threshold))
    totals = OrderedDict()
    for key, figures in parts.items():
        total = _add(figures)
        if total is not None:
            totals[key] = total
    return totals


def _shares(totals) -> "OrderedDict[str, float | None]":
    shares: OrderedDict[str, float | None] = OrderedDict()
    for indicator, dimension in totals:
        if dimension != "due":
            continue
        met, late = totals[(indicator, "met")], totals[(indicator, "late")]
        extended = totals.get((indicator, "met_extended"))
        parts = [met, late] + ([extended] if extended is not None else [])
        if any(not part.exact for part in parts):
            shares[indicator] = None
            continue
        done = met.low + (extended.low if extended is not None else 0)
        decided = done + late.low
        shares[indicator] = round(100 * done / decided, 1) if decided else None
    return shares


def public_group(figures: GroupIndicators) -> PublicGroup:
    """The group's public figures: each institution's own published view and the group
    figures built from them."""
    with paused_gc():
        return _public_group(figures)


def _public_group(figures: GroupIndicators) -> PublicGroup:
    views: OrderedDict[int, PublicIndicators] = OrderedDict()
    thresholds = {}
    for member in figures.group.members:
        threshold = threshold_for(member)
        thresholds[member.id] = threshold
        views[member.id] = public_view(figures.rows[member.id], threshold)
    totals = combine([(views[key], thresholds[key]) for key in views])
    provisional = not figures.period.is_complete(figures.generated_at)
    return PublicGroup(group=figures.group, period=figures.period, provisional=provisional,
                       generated_at=figures.generated_at,
                       views=views, totals=totals, shares=_shares(totals),
                       thresholds=set(thresholds.values()))

"""Everything the portal publishes, taken together, gives no hidden count back by arithmetic.

The published set is every open-data figure the portal offers: the transparency page and
its files (completed years), and the dashboard's and the command line's exports (whole
years, the current one marked provisional; quarters, months and ranges are refused, so no
year is ever published beside its parts).

The attacker's model. The unknowns are the numbers of reports in each class, a class being
one combination of everything a published cell depends on: the regime (Law 361/2022 report,
petition, forwarded), the outcome, the state of each legal clock that applies (met, met
within the extension, late, not yet due), and the channel, category, identity and month.
Every published number is a linear equation over those unknowns (a cell is the sum of the
classes it covers); a published 0 also tells that each class it covers is empty. The attacker
is given more than the real world gives: every clock is assumed to count exactly the year's
reports of its regime (no report near a year's end, so the due date falls in the year it
was received), which turns "reports received - petitions due" into an exact identity.

A hidden cell is recoverable when its own equation is a linear combination of the published
ones (its row lies in their row space). That is decided exactly, by Gaussian elimination
over the rationals (fractions.Fraction).

Keeping it small enough to solve: channel, category, identity and month are separate
attributes that each published table splits on its own; on a product of attributes, a sum
of functions of separate attributes can only equal a cell of one of them up to a constant,
and the constant (the total) is published. So a cell of one of those tables is recoverable in
the full model exactly when it is recoverable in the model of the core (regime, outcome,
clocks) times that one attribute, and the test solves one such model per attribute.
"""
import random
from collections import OrderedDict
from datetime import UTC, datetime
from fractions import Fraction
from itertools import product

import pytest

from app.models import Category, Channel, Platform
from app.services.indicators import exports
from app.services.indicators.clocks import LATE, MET, MET_EXTENDED, PENDING, Compliance
from app.services.indicators.compute import Breakdown, Indicators, Outreach
from app.services.indicators.periods import Period, PeriodRefused

LAW, PETITION, FORWARDED = "law", "petition", "forwarded"
OUTCOMES = ("substantiated", "partially_substantiated", "unsubstantiated", "dismissed",
            "forwarded", "not_concluded")
ACK, FEEDBACK, ANSWER, FORWARD = ("acknowledgement_7_days", "feedback_3_months",
                                  "petition_answer_30_45_days", "forward_5_days")
LEAVES = [c.value for c in Channel if c is not Channel.SOCIAL_MEDIA] + [
    f"social_media/{p.value}" for p in Platform]
ATTRIBUTES = {
    "reports_by_channel": LEAVES,
    "reports_by_category": [c.value for c in Category],
    "reports_by_anonymity": ["anonymous", "identified"],
    "reports_by_month": [f"2025-{m:02d}" for m in range(1, 13)],
}
COMPLETE_NOW = datetime(2026, 3, 1, tzinfo=UTC)  # 2025 is over
PROVISIONAL_NOW = datetime(2025, 12, 1, tzinfo=UTC)  # 2025 is not


# --- the model ---------------------------------------------------------------------------------

def core_classes(provisional: bool) -> list[tuple]:
    """(regime, outcome, acknowledgement, feedback, answer, forwarding) states."""
    two = (MET, LATE) + ((PENDING,) if provisional else ())
    three = (MET, MET_EXTENDED, LATE) + ((PENDING,) if provisional else ())
    classes = []
    for outcome, ack, feedback in product(OUTCOMES, two, two):
        if outcome != "forwarded":
            classes.append((LAW, outcome, ack, feedback, None, None))
    for outcome, answer in product(OUTCOMES, three):
        if outcome != "forwarded":
            classes.append((PETITION, outcome, None, None, answer, None))
    for ack, feedback, forward in product(two, two, two):
        classes.append((FORWARDED, "forwarded", ack, feedback, None, forward))
    return classes


def covers(indicator: str, dimension: str, core: tuple, value, attribute: str | None):
    """Does the published cell (indicator, dimension) count the class (core, value)?
    None when the cell is not a count of reports in this model."""
    regime, outcome, ack, feedback, answer, forward = core
    if indicator == "reports_received":
        return True
    if indicator == "reports_by_outcome":
        return outcome == dimension
    if indicator in ATTRIBUTES:
        return value == dimension if indicator == attribute else None
    clock_state = {ACK: (regime in (LAW, FORWARDED), ack),
                   FEEDBACK: (regime in (LAW, FORWARDED), feedback),
                   ANSWER: (regime == PETITION, answer),
                   FORWARD: (regime == FORWARDED, forward)}
    if indicator in clock_state:
        if dimension in ("share_met_percent", "median_days"):
            return None  # not a count (and a share is published only with its counts)
        applies, state = clock_state[indicator]
        return applies and (dimension == "due" or state == dimension)
    return None  # outreach: the institution's own posts, nothing about reports


def recoverable_cells(published_rows, provisional: bool, attribute: str | None) -> list[str]:
    """The hidden cells whose value follows linearly from the published ones."""
    values = ATTRIBUTES[attribute] if attribute else [None]
    classes = [(core, value) for core in core_classes(provisional) for value in values]
    cells = []
    for _, indicator, dimension, text in published_rows:
        membership = [covers(indicator, dimension, core, value, attribute)
                      for core, value in classes]
        if None in membership:
            continue
        cells.append((f"{indicator}/{dimension}", text, membership))
    # A published 0 empties every class it covers (counts are not negative).
    empty = set()
    for _, text, membership in cells:
        if text == "0":
            empty |= {index for index, inside in enumerate(membership) if inside}
    columns = [index for index in range(len(classes)) if index not in empty]

    def vector(membership) -> dict[int, Fraction]:
        return {position: Fraction(1) for position, index in enumerate(columns)
                if membership[index]}

    basis: dict[int, dict[int, Fraction]] = {}  # pivot column -> row with 1 at the pivot

    def reduce(row: dict[int, Fraction]) -> dict[int, Fraction]:
        row = dict(row)
        for pivot, base in basis.items():
            factor = row.get(pivot)
            if factor:
                for column, value in base.items():
                    updated = row.get(column, 0) - factor * value
                    if updated:
                        row[column] = updated
                    else:
                        row.pop(column, None)
        return row

    for _, text, membership in cells:
        if text.isdigit():
            row = reduce(vector(membership))
            if row:
                pivot = min(row)
                scale = row[pivot]
                row = {column: value / scale for column, value in row.items()}
                for other in basis.values():  # keep the basis fully reduced
                    factor = other.get(pivot)
                    if factor:
                        for column, value in row.items():
                            updated = other.get(column, 0) - factor * value
                            if updated:
                                other[column] = updated
                            else:
                                other.pop(column, None)
                basis[pivot] = row
    return [name for name, text, membership in cells
            if not text.isdigit() and not reduce(vector(membership))]


# --- random years built from random reports ----------------------------------------------------

def random_reports(rng: random.Random, count: int, provisional: bool) -> list[dict]:
    two = (MET, MET, LATE) + ((PENDING,) if provisional else ())
    three = (MET, MET_EXTENDED, LATE) + ((PENDING,) if provisional else ())
    reports = []
    for _ in range(count):
        regime = rng.choice([LAW, LAW, LAW, PETITION, PETITION, FORWARDED])
        report = {"regime": regime, "channel": rng.choice(LEAVES[:6] + LEAVES[6:8]),
                  "category": rng.choice(ATTRIBUTES["reports_by_category"][:4]),
                  "anonymity": rng.choice(ATTRIBUTES["reports_by_anonymity"]),
                  "month": rng.choice(ATTRIBUTES["reports_by_month"])}
        report["outcome"] = "forwarded" if regime == FORWARDED else rng.choice(
            [o for o in OUTCOMES if o != "forwarded"] + ["not_concluded"] * 2)
        if regime in (LAW, FORWARDED):
            report[ACK], report[FEEDBACK] = rng.choice(two), rng.choice(two)
        if regime == PETITION:
            report[ANSWER] = rng.choice(three)
        if regime == FORWARDED:
            report[FORWARD] = rng.choice(two)
        reports.append(report)
    return reports


def count_by(reports, key, keys) -> OrderedDict:
    cells = OrderedDict((k, 0) for k in keys)
    for report in reports:
        if key in report:
            cells[report[key]] += 1
    return cells


def clock(name, reports, keys) -> Compliance:
    cells = count_by(reports, name, keys)
    measured = cells[MET] + cells.get(MET_EXTENDED, 0) + cells[LATE]
    return Compliance(name, cells, 4.5 if measured else None, measured)


def indicators_of(reports, provisional: bool) -> Indicators:
    leaves = count_by(reports, "channel", LEAVES)
    platforms = OrderedDict((p.value, leaves[f"social_media/{p.value}"]) for p in Platform)
    channels = OrderedDict((c.value, sum(platforms.values()) if c is Channel.SOCIAL_MEDIA
                            else leaves[c.value]) for c in Channel)
    nothing = Breakdown("x", OrderedDict(x=len(reports)))
    two, three = (MET, LATE, PENDING), (MET, MET_EXTENDED, LATE, PENDING)
    return Indicators(
        institution_id=1, period=Period.year(2025),
        generated_at=PROVISIONAL_NOW if provisional else COMPLETE_NOW, received=len(reports),
        by_channel=Breakdown("by_channel", channels),
        by_platform=Breakdown("by_platform", platforms),
        by_category=Breakdown("c", count_by(reports, "category",
                                            ATTRIBUTES["reports_by_category"])),
        by_regime=nothing, by_status=nothing, by_origin=nothing,
        by_outcome=Breakdown("o", count_by(reports, "outcome", OUTCOMES)),
        by_anonymity=Breakdown("a", count_by(reports, "anonymity",
                                             ATTRIBUTES["reports_by_anonymity"])),
        by_month=Breakdown("m", count_by(reports, "month", ATTRIBUTES["reports_by_month"])),
        acknowledgement=clock(ACK, reports, two), feedback=clock(FEEDBACK, reports, two),
        answer=clock(ANSWER, reports, three), forwarding=clock(FORWARD, reports, two),
        overdue_now=Breakdown("overdue_now", OrderedDict()),
        outreach=Outreach(Breakdown("p", OrderedDict(facebook=1)), 0, 0, 0,
                          Breakdown("a", OrderedDict(facebook=0))))


def leaks(reports, threshold: int, provisional: bool) -> list[str]:
    view = exports.public_view(indicators_of(reports, provisional), threshold)
    assert view.provisional is provisional
    published = exports.rows(view)
    found = []
    for attribute in (None, *ATTRIBUTES):
        found += recoverable_cells(published, provisional, attribute)
    return sorted(set(found))


# --- the checks --------------------------------------------------------------------------------

def test_the_solver_finds_what_the_old_publication_gave_away():
    """The attacks of the issue, on hand-made publications: late = due - met when "not yet
    due" is a structural zero, and the regime split from the clock totals."""
    rows = [("2025", "reports_received", "total", "10"),
            ("2025", ACK, "due", "8"), ("2025", ACK, MET, "7"), ("2025", ACK, LATE, "<3"),
            ("2025", ACK, PENDING, "<3")]
    assert recoverable_cells(rows, provisional=False, attribute=None) == [
        f"{ACK}/{LATE}", f"{ACK}/{PENDING}"]
    # Received - acknowledgements due = petitions, whose clock was hidden.
    rows = [("2025", "reports_received", "total", "10"), ("2025", ACK, "due", "9"),
            ("2025", ANSWER, "due", "<3")]
    assert recoverable_cells(rows, provisional=False, attribute=None) == [f"{ANSWER}/due"]
    # The forwarding clock repeats the outcome "forwarded".
    rows = [("2025", "reports_received", "total", "10"), ("2025", FORWARD, "due", "2"),
            ("2025", "reports_by_outcome", "forwarded", "<3")]
    assert recoverable_cells(rows, provisional=False, attribute=None) == [
        "reports_by_outcome/forwarded"]
    # What a safe publication looks like to the same solver: nothing to find.
    rows = [("2025", "reports_received", "total", "10"),
            ("2025", ACK, "due", "8"), ("2025", ACK, MET, "<3"), ("2025", ACK, LATE, "<3")]
    assert recoverable_cells(rows, provisional=False, attribute=None) == []


@pytest.mark.parametrize("threshold", [2, 3, 5])
@pytest.mark.parametrize("provisional", [False, True])
def test_no_hidden_count_follows_from_everything_published(threshold, provisional):
    rng = random.Random(8000 + 10 * threshold + provisional)
    for run in range(30):
        reports = random_reports(rng, rng.choice([3, 4, 5, 6, 8, 10, 14, 25]), provisional)
        assert leaks(reports, threshold, provisional) == [], f"run {run}"


def test_only_whole_years_are_offered_for_publication():
    exports.publishable(Period.year(2025))
    for period in (Period.quarter(2025, 4), Period.month(2025, 3),
                   Period.between(datetime(2025, 1, 1).date(), datetime(2025, 6, 30).date())):
        with pytest.raises(exports.PeriodNotPublished):
            exports.publishable(period)
    assert issubclass(exports.PeriodNotPublished, Exception) and PeriodRefused

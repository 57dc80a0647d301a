"""The group figures' SQL: compute.py's and clocks.py's conditions, counted per institution.

Each statement is one pass over the group's cases in the period, GROUP BY institution_id: a
county of 100 communes or the 3,200 institutions of the country cost five statements (the
received-in-period counts, four legal clocks, overdue now, outreach, portal use), not five per
institution. The group is either every institution (no filter at all) or a list of ids bound
as one expanding IN (…). Only metadata columns are named, as in compute.py.
"""
import statistics
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import bindparam, func, select, true

from ...extensions import db
from ...models import Case, OutreachItem, OutreachKind, OutreachPlatform, UsageCounter
from .clocks import Compliance, _clock_query, clock_definitions, clock_parameters
from .compute import (
    OVERDUE_KINDS,
    USAGE_KINDS,
    WEB,
    Breakdown,
    Indicators,
    Outreach,
    _ordered,
    assembled,
    received_columns,
)
from .periods import Period
from .sql import count_if, moment, on_postgresql


@dataclass(frozen=True)
class GroupScope:
    everyone: bool
    ids: tuple[int, ...]


def _mine(column, everyone: bool):
    return true() if everyone else column.in_(bindparam("institutions", expanding=True))


def _scope_parameters(scope: GroupScope) -> dict:
    return {} if scope.everyone else {"institutions": list(scope.ids)}


@lru_cache(maxsize=64)
def _received_statement(months: int, everyone: bool):
    columns = received_columns(months)
    statement = select(Case.institution_id, *[
        count_if(condition).label(f"c{index}") for index, (_, _, condition) in
        enumerate(columns)]).where(
        _mine(Case.institution_id, everyone), Case.received_at >= moment("start"),
        Case.received_at < moment("end")).group_by(Case.institution_id)
    return statement, [(dimension, key) for dimension, key, _ in columns]


def _received(scope: GroupScope, period: Period, parameters: dict) -> dict[int, dict]:
    months = period.months()
    statement, keys = _received_statement(len(months), scope.everyone)
    bound = dict(parameters)
    for index, (_, month_start, month_end) in enumerate(months):
        bound[f"month{index}"], bound[f"month{index + 1}"] = month_start, month_end
    out: dict[int, dict] = {}
    for row in db.session.execute(statement, bound):
        grouped: dict[str, OrderedDict] = {}
        for index, (dimension, key) in enumerate(keys):
            if dimension == "by_month":
                key = months[key][0]
            grouped.setdefault(dimension, OrderedDict())[key] = int(row[index + 1] or 0)
        out[row[0]] = {dimension: Breakdown(dimension, cells)
                       for dimension, cells in grouped.items()}
    return out


@lru_cache(maxsize=8)
def _clock_statements(postgresql: bool, everyone: bool):
    definitions = clock_definitions(_mine(Case.institution_id, everyone))
    return {name: _clock_query(*definition, postgresql=postgresql, per_institution=True)
            for name, definition in definitions.items()}


def _clocks(scope: GroupScope, period: Period, now: datetime) -> dict[str, dict[int, Compliance]]:
    postgresql = on_postgresql()
    parameters = {**_scope_parameters(scope), **clock_parameters(period, now)}
    out: dict[str, dict[int, Compliance]] = {}
    for name, query in _clock_statements(postgresql, scope.everyone).items():
        per: dict[int, Compliance] = {}
        durations: dict[int, list[float]] = {}
        if not postgresql:  # SQLite has no percentile: the numbers, median here
            for institution_id, days in db.session.execute(query.durations, parameters):
                durations.setdefault(institution_id, []).append(days)
        for row in db.session.execute(query.counts, parameters):
            institution_id, values = row[0], row[1:]
            cells = OrderedDict((key, int(values[index] or 0))
                                for index, key in enumerate(query.keys))
            measured = int(values[len(query.keys)] or 0)
            if postgresql:
                median = values[-1]
            else:
                kept = durations.get(institution_id)
                median = statistics.median(kept) if kept else None
            per[institution_id] = Compliance(
                name, cells, None if median is None else round(float(median), 1), measured)
        out[name] = per
    return out


def _overdue(scope: GroupScope, now: datetime) -> dict[int, Breakdown]:
    rows = db.session.execute(
        select(Case.institution_id, Case.next_deadline_kind, func.count()).where(
            _mine(Case.institution_id, scope.everyone), Case.next_deadline_at < now)
        .group_by(Case.institution_id, Case.next_deadline_kind), _scope_parameters(scope))
    counts: dict[int, dict] = {}
    for institution_id, kind, count in rows:
        counts.setdefault(institution_id, {})[kind] = count
    return {institution_id: Breakdown("overdue_now", _ordered(OVERDUE_KINDS, values))
            for institution_id, values in counts.items()}


def _outreach(scope: GroupScope, period: Period) -> dict[int, Outreach]:
    rows = db.session.execute(
        select(OutreachItem.institution_id, OutreachItem.kind, OutreachItem.platform,
               func.count(), func.coalesce(func.sum(OutreachItem.audience), 0),
               func.coalesce(func.sum(OutreachItem.participants), 0))
        .where(_mine(OutreachItem.institution_id, scope.everyone),
               OutreachItem.published_on >= period.first_day,
               OutreachItem.published_on <= period.last_day)
        .group_by(OutreachItem.institution_id, OutreachItem.kind, OutreachItem.platform),
        _scope_parameters(scope))
    parts: dict[int, list] = {}
    for institution_id, kind, platform, count, reached, present in rows:
        posts, activities, totals = parts.setdefault(institution_id, [{}, {}, [0, 0]])
        if kind is OutreachKind.POST:
            posts[platform.value] = count
            totals[0] += int(reached or 0)
        else:
            activities[platform.value] = count
            totals[1] += int(present or 0)
    return {institution_id: _make_outreach(posts, activities, *totals)
            for institution_id, (posts, activities, totals) in parts.items()}


def _make_outreach(posts: dict, activities: dict, audience: int, participants: int) -> Outreach:
    keys = [platform.value for platform in OutreachPlatform]
    return Outreach(posts=Breakdown("preventive_posts", _ordered(keys, posts)),
                    post_audience=audience, activities=sum(activities.values()),
                    participants=participants,
                    activities_by_platform=Breakdown("awareness_activities",
                                                     _ordered(keys, activities)))


def _usage(scope: GroupScope, period: Period) -> dict[int, dict]:
    rows = db.session.execute(
        select(UsageCounter.institution_id, UsageCounter.kind, func.sum(UsageCounter.count))
        .where(_mine(UsageCounter.institution_id, scope.everyone),
               UsageCounter.day >= period.first_day, UsageCounter.day <= period.last_day)
        .group_by(UsageCounter.institution_id, UsageCounter.kind), _scope_parameters(scope))
    out: dict[int, dict] = {}
    for institution_id, kind, count in rows:
        out.setdefault(institution_id, {})[kind] = int(count or 0)
    return out


def _empty_received(period: Period) -> dict[str, Breakdown]:
    months = period.months()
    grouped: dict[str, OrderedDict] = {}
    for dimension, key, _ in received_columns(len(months)):
        name = months[int(key)][0] if dimension == "by_month" else key
        grouped.setdefault(dimension, OrderedDict())[name] = 0
    return {dimension: Breakdown(dimension, cells) for dimension, cells in grouped.items()}


_CLOCK_KEYS = {"acknowledgement_7_days": ("met", "late", "pending"),
               "feedback_3_months": ("met", "late", "pending"),
               "petition_answer_30_45_days": ("met", "met_extended", "late", "pending"),
               "forward_5_days": ("met", "late", "pending")}


def _assemble(institution_id: int, period: Period, now: datetime, received: dict,
              clocks: dict[str, Compliance], overdue: Breakdown | None,
              outreach: Outreach | None, usage: dict) -> Indicators:
    def clock(name):
        return clocks.get(name) or Compliance(
            name, OrderedDict((key, 0) for key in _CLOCK_KEYS[name]), None, 0)

    counts = dict(usage)
    counts["report_submitted"] = received["by_origin"].cells[WEB]
    return assembled(
        institution_id, period, now, received,
        acknowledgement=clock("acknowledgement_7_days"), feedback=clock("feedback_3_months"),
        answer=clock("petition_answer_30_45_days"), forwarding=clock("forward_5_days"),
        overdue_now=overdue or Breakdown("overdue_now", _ordered(OVERDUE_KINDS, {})),
        outreach=outreach or _make_outreach({}, {}, 0, 0),
        usage=Breakdown("portal_use", _ordered(USAGE_KINDS, counts)))


def empty_row(period: Period, now: datetime) -> Indicators:
    return _assemble(0, period, now, _empty_received(period), {}, None, None, {})


def grouped_indicators(scope: GroupScope, period: Period, now: datetime) -> dict[int, Indicators]:
    """Indicators of every institution of the scope that has something in the period (or an
    overdue case now); the others are absent (the caller fills in zeros)."""
    if not scope.everyone and not scope.ids:
        return {}
    parameters = {**_scope_parameters(scope), "start": period.start_utc,
                  "end": period.end_utc}
    received = _received(scope, period, parameters)
    clocks = _clocks(scope, period, now)
    overdue = _overdue(scope, now)
    outreach = _outreach(scope, period)
    usage = _usage(scope, period)
    present = set(received) | set(overdue) | set(outreach) | set(usage)
    for per in clocks.values():
        present |= set(per)
    return {institution_id: _assemble(
        institution_id, period, now, received.get(institution_id) or _empty_received(period),
        {name: per[institution_id] for name, per in clocks.items() if institution_id in per},
        overdue.get(institution_id), outreach.get(institution_id),
        usage.get(institution_id, {}))
        for institution_id in present}

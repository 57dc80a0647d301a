"""The legal clocks: how many of the deadlines that fell in a period were met.

Definitions (one institution, one Period of local days; what "done" means for each clock is
services/casework/deadlines.py's, the same the inbox and the case page use):

- Acknowledgement within 7 days (Law 361/2022): every report that is not a petition
  (whistleblower reports, reports not yet triaged, and forwarded reports, which stay in the
  figure after forwarding) whose acknowledgement was due in the period (acknowledge_due_at =
  received_at + 7 days falls in it). Done: acknowledged, or closed or forwarded before being
  acknowledged. Met: done on or before the due time. Late: done after it, or not done and the
  due time has passed. Pending: not done and not yet due. Share met = met / (met + late).
- Feedback within 3 months (Law 361/2022): the same reports, whose feedback was due in the
  period (feedback_due_at). Done at feedback_given_at: the first staff message other than the
  acknowledgement, or the closing or forwarding (kept through a reopening and the retention
  purge). Met / late / pending as above.
- Answer within 30 days, or 45 when extended (OG 27/2002): petitions whose answer was due in
  the period (answer_due_at, which the extension moves by 15 days). Answered at the first
  "closed" event. Met within 30 days (not extended), met within the extended 45 days, late,
  pending.
- Forwarded within 5 days: reports triaged as not competent whose forwarding was due in the
  period (forward_due_at); done at forwarded_at. Met / late / pending as above.
- Median days: from receipt to the acknowledgement / feedback / answer / forwarding, over the
  cases of the clock's population that have one (late ones included), in days with one
  decimal.
"""
import statistics
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Select, and_, bindparam, func, or_, select

from ...extensions import db
from ...models import CLOSING_EVENTS, Case, CaseEvent, EventKind, Regime
from ..casework import deadlines
from .periods import Period
from .sql import count_if, days_between, earliest, moment, on_postgresql

MET, MET_EXTENDED, LATE, PENDING = "met", "met_extended", "late", "pending"
__all__ = ["CLOSING_EVENTS", "Compliance", "clocks"]


@dataclass
class Compliance:
    """One legal clock: how many deadlines in the period were met, missed or still open."""

    name: str
    cells: "OrderedDict[str, int]"  # met [, met_extended], late, pending
    median_days: float | None
    measured: int  # cases the median is taken over

    @property
    def due(self) -> int:
        return sum(self.cells.values())

    @property
    def met(self) -> int:
        return self.cells[MET] + self.cells.get(MET_EXTENDED, 0)

    @property
    def decided(self) -> int:
        return self.met + self.cells[LATE]

    @property
    def share_met(self) -> float | None:
        """Met / (met + late), in percent with one decimal; None when nothing was decided."""
        return round(100 * self.met / self.decided, 1) if self.decided else None


def _first_event(kinds: tuple[EventKind, ...]):
    return (select(func.min(CaseEvent.at)).where(CaseEvent.case_id == Case.id,
                                                 CaseEvent.kind.in_(kinds))
            .scalar_subquery())


def _acknowledged_at():
    """The acknowledgement, or the first closing when the case was closed without one."""
    return earliest(Case.acknowledged_at, _first_event(CLOSING_EVENTS))


@dataclass(frozen=True)
class _ClockQuery:
    keys: tuple[str, ...]
    counts: Select  # the statement counting met / late / pending (and the median on PG)
    durations: Select  # days from receipt, one row per case that has an answer


def _clock_query(conditions: list, done_at, due_at, extended, postgresql: bool,
                 per_institution: bool = False) -> _ClockQuery:
    """The counts (and durations) of one clock; with per_institution, one row per
    institution, its id first (group_queries.py)."""
    columns = [Case.received_at.label("received_at"), done_at.label("done_at"),
               due_at.label("due_at")]
    if per_institution:
        columns.append(Case.institution_id.label("institution_id"))
    if extended is not None:
        columns.append(extended.label("extended"))
    # The candidates first, so that done_at (a subquery per case) is computed once each:
    # OFFSET 0 keeps the database from merging this into the outer query, which would
    # repeat the subqueries for every aggregate that reads done_at.
    c = select(*columns).where(*conditions).offset(0).subquery().c
    now = moment("now")
    met = and_(c.done_at.is_not(None), c.done_at <= c.due_at)
    late = or_(and_(c.done_at.is_not(None), c.done_at > c.due_at),
               and_(c.done_at.is_(None), c.due_at < now))
    pending = and_(c.done_at.is_(None), c.due_at >= now)
    days = days_between(c.done_at, c.received_at)
    keys: tuple[str, ...]
    if extended is not None:
        keys = (MET, MET_EXTENDED, LATE, PENDING)
        measures = [count_if(and_(met, c.extended.is_(False))),
                    count_if(and_(met, c.extended.is_(True)))]
    else:
        keys, measures = (MET, LATE, PENDING), [count_if(met)]
    measures += [count_if(late), count_if(pending), func.count(c.done_at)]
    if postgresql:
        measures.append(func.percentile_cont(0.5).within_group(days))
    if per_institution:
        return _ClockQuery(keys, select(c.institution_id, *measures).group_by(c.institution_id),
                           select(c.institution_id, days).where(c.done_at.is_not(None)))
    return _ClockQuery(keys, select(*measures), select(days).where(c.done_at.is_not(None)))


def clock_definitions(mine) -> dict[str, tuple[list, object, object, object]]:
    """Per clock: (conditions, done at, due at, extended or None) for the cases `mine`
    selects (one institution here, a group of them in group_queries.py)."""
    start, end = moment("start"), moment("end")
    not_petition = or_(Case.regime.is_(None), Case.regime != Regime.PETITION)
    # Each due date is derived from received_at, so a matching range on received_at lets the
    # (institution, received_at) index find the candidates; the due date then decides.
    return {
        "acknowledgement_7_days": (
            [mine, not_petition, Case.received_at >= moment("acknowledge_from"),
             Case.received_at < end, Case.acknowledge_due_at >= start,
             Case.acknowledge_due_at < end],
            _acknowledged_at(), Case.acknowledge_due_at, None),
        # Feedback is due 3 months after the acknowledgement, which may itself be late: no
        # lower bound on received_at holds, only that it precedes the due date.
        "feedback_3_months": (
            [mine, not_petition, Case.received_at < end, Case.feedback_due_at >= start,
             Case.feedback_due_at < end],
            Case.feedback_given_at, Case.feedback_due_at, None),
        "petition_answer_30_45_days": (
            [mine, Case.regime == Regime.PETITION, Case.received_at >= moment("answer_from"),
             Case.received_at < end, Case.answer_due_at >= start, Case.answer_due_at < end],
            _first_event((EventKind.CLOSED,)), Case.answer_due_at,
            Case.extended_at.is_not(None)),
        "forward_5_days": (
            [mine, Case.regime == Regime.FORWARDED, Case.received_at >= moment("forward_from"),
             Case.received_at < end, Case.forward_due_at >= start, Case.forward_due_at < end],
            Case.forwarded_at, Case.forward_due_at, None),
    }


def clock_parameters(period: Period, now: datetime) -> dict:
    """The bound values of the clocks' statements for a period."""
    return {
        "start": period.start_utc, "end": period.end_utc, "now": now,
        "acknowledge_from": period.start_utc - deadlines.ACKNOWLEDGE_WITHIN - timedelta(1),
        "answer_from": period.start_utc - deadlines.ANSWER_WITHIN - deadlines.EXTENSION
        - timedelta(1),
        "forward_from": period.start_utc - deadlines.FORWARD_WITHIN - timedelta(1)}


@lru_cache(maxsize=8)
def _clock_queries(postgresql: bool) -> dict[str, _ClockQuery]:
    """The legal clocks' statements, built once (only the bound values change)."""
    definitions = clock_definitions(Case.institution_id == bindparam("institution"))
    return {name: _clock_query(*definition, postgresql=postgresql)
            for name, definition in definitions.items()}


def clocks(institution_id: int, period: Period, now: datetime) -> tuple[Compliance, ...]:
    postgresql = on_postgresql()
    parameters = {"institution": institution_id, **clock_parameters(period, now)}
    results = []
    for name, query in _clock_queries(postgresql).items():
        row = db.session.execute(query.counts, parameters).one()
        cells = OrderedDict((key, int(row[index] or 0)) for index, key in enumerate(query.keys))
        measured = int(row[len(query.keys)] or 0)
        if postgresql:
            median = row[-1]
        else:
            # SQLite has no percentile: fetch the durations (numbers only), median here.
            durations = db.session.scalars(query.durations, parameters).all()
            median = statistics.median(durations) if durations else None
        results.append(Compliance(name, cells,
                                  None if median is None else round(float(median), 1),
                                  measured))
    return tuple(results)

"""The integrity-plan indicators, computed in SQL from plaintext metadata only.

Nothing here decrypts or even selects a case's content, identity or notification columns:
every query names the metadata columns it aggregates (a test watches the SQL to keep it so).
The coordinator sees exact figures; public outputs go through app.services.suppression first.

Population and definitions (one institution, one Period of local days, see periods.py):

- Reports received: cases whose received_at falls in the period. A case counts once, by when
  it was received, with its current channel, category, regime, status and outcome; a reopened
  case is not counted again, a forwarded one counts under the outcome "forwarded".
- Channel: social media is split by platform (the platform column).
- Regime: whistleblower report, petition, forwarded, or not yet triaged (no regime).
- Web vs recorded by staff: recorded_by_staff_id is empty for reports made on this portal.
- Acknowledgement within 7 days (Law 361/2022): whistleblower reports and reports not yet
  triaged (the strictest clock applies to them) whose acknowledgement was due in the period
  (acknowledge_due_at = received_at + 7 days falls in it). Met: acknowledged_at is on or before
  the due time. Late: acknowledged after it, or not acknowledged and the due time has passed.
  Pending: not acknowledged and not yet due. Share met = met / (met + late).
- Feedback within 3 months (Law 361/2022): the same regimes, whose feedback was due in the
  period (feedback_due_at). Feedback was given at the earliest of: the first closing of the
  case (its first "closed" or "forwarded" event, which carries a reasoned answer, and survives a
  reopening and the retention purge), and the first message from staff sent after the
  acknowledgement (any staff message when there was none). Met / late / pending as above.
- Answer within 30 days, or 45 when extended (OG 27/2002): petitions whose answer was due in
  the period (answer_due_at, which the extension moves by 15 days). Answered at the first
  "closed" event. Met within 30 days (not extended), met within the extended 45 days, late,
  pending.
- Median days: from receipt to the acknowledgement / feedback / answer, over the cases of the
  clock's population that have one (late ones included), in days with one decimal.
- Overdue now: open cases whose next legal deadline has passed, by kind; a snapshot of today,
  for the whole institution, whatever the period.
- Month by month: reports received per local calendar month of the period.
- Outreach: preventive posts per platform, awareness activities and their participants, from
  the outreach log (published_on in the period).
- Portal use (measure 2.3): the daily usage counters summed over the period's days.
"""
import statistics
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Float

from ..extensions import db
from ..models import (
    FROM_STAFF,
    Case,
    CaseEvent,
    Category,
    Channel,
    Message,
    Outcome,
    OutreachItem,
    OutreachKind,
    OutreachPlatform,
    Platform,
    Regime,
    Role,
    StaffMember,
    Status,
    UsageCounter,
)
from ..models.types import utcnow
from . import deadlines
from .authz import require_role
from .periods import Period

UNTRIAGED = "untriaged"
NOT_CONCLUDED = "not_concluded"
ANONYMOUS, IDENTIFIED = "anonymous", "identified"
WEB, RECORDED_BY_STAFF = "web", "recorded_by_staff"
MET, MET_EXTENDED, LATE, PENDING = "met", "met_extended", "late", "pending"
OVERDUE_KINDS = (deadlines.ACKNOWLEDGE, deadlines.FEEDBACK, deadlines.ANSWER, deadlines.FORWARD)
USAGE_KINDS = ("report_submitted", "follow_up_login")
CLOSING_EVENTS = ("closed", "forwarded")


@dataclass
class Breakdown:
    """Counts per value of one dimension, every value listed (zeros too), in a fixed order."""

    name: str
    cells: "OrderedDict[str, int]"

    @property
    def total(self) -> int:
        return sum(self.cells.values())


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


@dataclass
class Outreach:
    posts: Breakdown  # preventive posts per OutreachPlatform
    post_audience: int
    activities: int
    participants: int
    activities_by_platform: Breakdown


@dataclass
class Indicators:
    institution_id: int
    period: Period
    generated_at: datetime
    received: int
    by_channel: Breakdown  # social media as one cell
    by_platform: Breakdown  # social media reports per platform
    by_category: Breakdown
    by_regime: Breakdown
    by_status: Breakdown
    by_outcome: Breakdown
    by_anonymity: Breakdown
    by_origin: Breakdown
    by_month: Breakdown
    acknowledgement: Compliance
    feedback: Compliance
    answer: Compliance
    overdue_now: Breakdown
    outreach: Outreach
    usage: Breakdown = field(default_factory=lambda: Breakdown("portal_use", OrderedDict()))

    @property
    def channels_used(self) -> int:
        """How many kinds of channel brought at least one report (platforms counted apart)."""
        plain = sum(1 for key, value in self.by_channel.cells.items()
                    if value and key != Channel.SOCIAL_MEDIA.value)
        return plain + sum(1 for value in self.by_platform.cells.values() if value)


# --- SQL helpers ---------------------------------------------------------------------------------

class days_between(FunctionElement):
    """(later - earlier) in days, as a float, on either database."""

    type = Float()
    inherit_cache = True


@compiles(days_between)
def _days_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"(julianday({compiler.process(later, **kw)}) - " \
           f"julianday({compiler.process(earlier, **kw)}))"


@compiles(days_between, "postgresql")
def _days_postgresql(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"(EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - " \
           f"{compiler.process(earlier, **kw)})) / 86400.0)"


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _count_if(condition):
    return func.count(case((condition, 1)))


def _ordered(keys, values: dict) -> "OrderedDict[str, int]":
    return OrderedDict((key, int(values.get(key) or 0)) for key in keys)


# --- the queries ---------------------------------------------------------------------------------

def _received_breakdowns(institution_id: int, period: Period) -> dict[str, Breakdown]:
    """Every breakdown of the reports received, in one pass over the period's index range:
    one COUNT(CASE …) column per value, so values with no report come back as 0."""
    columns: list[tuple[str, str, object]] = []

    def add(dimension, key, condition):
        columns.append((dimension, key, condition))

    for channel in Channel:
        add("by_channel", channel.value, Case.channel == channel)
    for platform in Platform:
        add("by_platform", platform.value,
            and_(Case.channel == Channel.SOCIAL_MEDIA, Case.platform == platform))
    for category in Category:
        add("by_category", category.value, Case.category == category)
    for regime in Regime:
        add("by_regime", regime.value, Case.regime == regime)
    add("by_regime", UNTRIAGED, Case.regime.is_(None))
    for status in Status:
        add("by_status", status.value, Case.status == status)
    for outcome in Outcome:
        add("by_outcome", outcome.value, Case.outcome == outcome)
    add("by_outcome", NOT_CONCLUDED, Case.outcome.is_(None))
    add("by_anonymity", ANONYMOUS, Case.anonymous.is_(True))
    add("by_anonymity", IDENTIFIED, Case.anonymous.is_(False))
    add("by_origin", WEB, Case.recorded_by_staff_id.is_(None))
    add("by_origin", RECORDED_BY_STAFF, Case.recorded_by_staff_id.is_not(None))
    for month, month_start, month_end in period.months():
        add("by_month", month, and_(Case.received_at >= month_start, Case.received_at < month_end))

    statement = select(*[_count_if(condition).label(f"c{index}")
                         for index, (_, _, condition) in enumerate(columns)]).where(
        Case.institution_id == institution_id,
        Case.received_at >= period.start_utc, Case.received_at < period.end_utc)
    row = db.session.execute(statement).one()
    grouped: dict[str, OrderedDict] = {}
    for index, (dimension, key, _) in enumerate(columns):
        grouped.setdefault(dimension, OrderedDict())[key] = int(row[index] or 0)
    return {dimension: Breakdown(dimension, cells) for dimension, cells in grouped.items()}


def _first_event(kinds: tuple[str, ...]):
    return (select(func.min(CaseEvent.at)).where(CaseEvent.case_id == Case.id,
                                                 CaseEvent.kind.in_(kinds))
            .scalar_subquery())


def _earliest(first, second):
    """The earlier of two moments, either of which may be missing (NULL)."""
    return case((first.is_(None), second), (second.is_(None), first),
                (first <= second, first), else_=second)


def _feedback_given_at():
    """The earlier of the first closing and the first staff message after the
    acknowledgement (the acknowledgement's own message is stored just before it)."""
    first_message = (select(func.min(Message.created_at)).where(
        Message.case_id == Case.id, Message.author == FROM_STAFF,
        or_(Case.acknowledged_at.is_(None), Message.created_at > Case.acknowledged_at))
        .scalar_subquery())
    return _earliest(_first_event(CLOSING_EVENTS), first_message)


def _compliance(name: str, conditions: list, done_at, due_at, now: datetime,
                extended=None) -> Compliance:
    """Met / late / pending counts and the median days from receipt, for one clock."""
    columns = [Case.received_at.label("received_at"), done_at.label("done_at"),
               due_at.label("due_at")]
    if extended is not None:
        columns.append(extended.label("extended"))
    # The candidates first, so that done_at (a subquery per case) is computed once each.
    c = select(*columns).where(*conditions).subquery().c
    met = and_(c.done_at.is_not(None), c.done_at <= c.due_at)
    late = or_(and_(c.done_at.is_not(None), c.done_at > c.due_at),
               and_(c.done_at.is_(None), c.due_at < now))
    pending = and_(c.done_at.is_(None), c.due_at >= now)
    days = days_between(c.done_at, c.received_at)
    if extended is not None:
        keys = [MET, MET_EXTENDED, LATE, PENDING]
        measures = [_count_if(and_(met, c.extended.is_(False))),
                    _count_if(and_(met, c.extended.is_(True)))]
    else:
        keys, measures = [MET, LATE, PENDING], [_count_if(met)]
    measures += [_count_if(late), _count_if(pending), func.count(c.done_at)]
    postgresql = _on_postgresql()
    if postgresql:
        measures.append(func.percentile_cont(0.5).within_group(days))
    row = db.session.execute(select(*measures)).one()
    cells = OrderedDict((key, int(row[index] or 0)) for index, key in enumerate(keys))
    measured = int(row[len(keys)] or 0)
    if postgresql:
        median = row[-1]
    else:
        # SQLite has no percentile: fetch the durations (numbers only) and take it here.
        durations = db.session.scalars(select(days).where(c.done_at.is_not(None))).all()
        median = statistics.median(durations) if durations else None
    return Compliance(name, cells, None if median is None else round(float(median), 1),
                      measured)


def _clocks(institution_id: int, period: Period, now: datetime) -> tuple[Compliance, ...]:
    start, end = period.start_utc, period.end_utc
    mine = Case.institution_id == institution_id
    law_361 = or_(Case.regime.is_(None), Case.regime == Regime.WHISTLEBLOWER)
    # Each due date is derived from received_at, so a matching range on received_at lets the
    # (institution, received_at) index find the candidates; the due date then decides.
    acknowledgement = _compliance(
        "acknowledgement_7_days",
        [mine, law_361, Case.received_at >= start - deadlines.ACKNOWLEDGE_WITHIN - timedelta(1),
         Case.received_at < end, Case.acknowledge_due_at >= start, Case.acknowledge_due_at < end],
        Case.acknowledged_at, Case.acknowledge_due_at, now)
    # Feedback is due 3 months after the acknowledgement, which may itself be late: no lower
    # bound on received_at holds, only that it precedes the due date.
    feedback = _compliance(
        "feedback_3_months",
        [mine, law_361, Case.received_at < end, Case.feedback_due_at >= start,
         Case.feedback_due_at < end],
        _feedback_given_at(), Case.feedback_due_at, now)
    longest = deadlines.ANSWER_WITHIN + deadlines.EXTENSION + timedelta(1)
    answer = _compliance(
        "petition_answer_30_45_days",
        [mine, Case.regime == Regime.PETITION, Case.received_at >= start - longest,
         Case.received_at < end, Case.answer_due_at >= start, Case.answer_due_at < end],
        _first_event(("closed",)), Case.answer_due_at, now,
        extended=Case.extended_at.is_not(None))
    return acknowledgement, feedback, answer


def _overdue_now(institution_id: int, now: datetime) -> Breakdown:
    rows = db.session.execute(
        select(Case.next_deadline_kind, func.count()).where(
            Case.institution_id == institution_id, Case.next_deadline_at < now)
        .group_by(Case.next_deadline_kind)).all()
    return Breakdown("overdue_now", _ordered(OVERDUE_KINDS, dict(rows)))


def _outreach(institution_id: int, period: Period) -> Outreach:
    rows = db.session.execute(
        select(OutreachItem.kind, OutreachItem.platform, func.count(),
               func.coalesce(func.sum(OutreachItem.audience), 0),
               func.coalesce(func.sum(OutreachItem.participants), 0))
        .where(OutreachItem.institution_id == institution_id,
               OutreachItem.published_on >= period.first_day,
               OutreachItem.published_on <= period.last_day)
        .group_by(OutreachItem.kind, OutreachItem.platform)).all()
    posts, activities, audience, participants = {}, {}, 0, 0
    for kind, platform, count, reached, present in rows:
        if kind is OutreachKind.POST:
            posts[platform.value] = count
            audience += int(reached)
        else:
            activities[platform.value] = count
            participants += int(present)
    keys = [platform.value for platform in OutreachPlatform]
    return Outreach(posts=Breakdown("preventive_posts", _ordered(keys, posts)),
                    post_audience=audience, activities=sum(activities.values()),
                    participants=participants,
                    activities_by_platform=Breakdown("awareness_activities",
                                                     _ordered(keys, activities)))


def _usage(institution_id: int, period: Period) -> Breakdown:
    # Counters are kept per UTC day: close enough to the local day for a yearly indicator.
    rows = db.session.execute(
        select(UsageCounter.kind, func.sum(UsageCounter.count))
        .where(UsageCounter.institution_id == institution_id,
               UsageCounter.day >= period.first_day, UsageCounter.day <= period.last_day)
        .group_by(UsageCounter.kind)).all()
    return Breakdown("portal_use", _ordered(USAGE_KINDS, dict(rows)))


def compute(institution_id: int, period: Period, now: datetime | None = None) -> Indicators:
    """Exact indicators for one institution and period. Callers that show them to a person
    check the role first (dashboard) or suppress small counts (public outputs)."""
    now = now or utcnow()
    received = _received_breakdowns(institution_id, period)
    acknowledgement, feedback, answer = _clocks(institution_id, period, now)
    return Indicators(
        institution_id=institution_id, period=period, generated_at=now,
        received=received["by_channel"].total, by_channel=received["by_channel"],
        by_platform=received["by_platform"], by_category=received["by_category"],
        by_regime=received["by_regime"], by_status=received["by_status"],
        by_outcome=received["by_outcome"], by_anonymity=received["by_anonymity"],
        by_origin=received["by_origin"], by_month=received["by_month"],
        acknowledgement=acknowledgement, feedback=feedback, answer=answer,
        overdue_now=_overdue_now(institution_id, now),
        outreach=_outreach(institution_id, period), usage=_usage(institution_id, period))


def dashboard(member: StaffMember, period: Period, now: datetime | None = None) -> Indicators:
    """The coordinator's exact figures for their institution."""
    require_role(member, Role.COORDINATOR)
    return compute(member.institution_id, period, now)


def years_with_data(institution_id: int, now: datetime | None = None) -> list[int]:
    """Local calendar years from the first report or outreach entry to this year, newest
    first; empty when there is nothing yet."""
    from .periods import LOCAL_ZONE, local_today

    first_case = db.session.scalar(select(func.min(Case.received_at)).where(
        Case.institution_id == institution_id))
    first_post = db.session.scalar(select(func.min(OutreachItem.published_on)).where(
        OutreachItem.institution_id == institution_id))
    starts = []
    if first_case is not None:
        starts.append(first_case.astimezone(LOCAL_ZONE).year)
    if first_post is not None:
        starts.append(first_post.year)
    if not starts:
        return []
    this_year = local_today(now).year
    return list(range(this_year, min(min(starts), this_year) - 1, -1))

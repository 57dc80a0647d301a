"""The integrity-plan indicators, computed in SQL from plaintext metadata only.

Nothing here decrypts or even selects a case's content, identity or notification columns:
every query names the metadata columns it aggregates (a test watches the SQL to keep it so).
The coordinator sees exact figures; public outputs go through app.services.indicators.suppression first.

Population and definitions (one institution, one Period of local days, see periods.py):

- Reports received: cases whose received_at falls in the period. A case counts once, by when
  it was received, with its current channel, category, regime, status and outcome; a reopened
  case is not counted again, a forwarded one counts under the outcome "forwarded".
- Channel: social media is split by platform (the platform column).
- Regime: whistleblower report, petition, forwarded, or not yet triaged (no regime).
- Web vs recorded by staff: recorded_by_staff_id is empty for reports made on this portal.
- Acknowledgement, feedback, petition answers and forwarding: see compliance.py.
- Overdue now: cases whose next legal deadline (services/casework/deadlines.py: the same one the inbox
  and the case page show) has passed, by kind; a snapshot of today, for the whole
  institution, whatever the period. A case whose feedback was given has no open deadline.
- Month by month: reports received per local calendar month of the period.
- Outreach: preventive posts per platform, awareness activities and their participants, from
  the outreach log (published_on in the period).
- Portal use (measure 2.3): reports sent through the portal are the reports received in the
  period that no staff member recorded (the "web" origin above: one figure, one definition);
  follow-up sign-ins are the daily counters, kept per local day, summed over the period.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy import and_, bindparam, func, select

from ...extensions import db
from ...models import (
    Case,
    Category,
    Channel,
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
from ...models.case import DeadlineKind
from ...models.types import utcnow
from ..access.guards import require_role
from .clocks import Compliance, clocks
from .periods import LOCAL_ZONE, Period, local_today
from .sql import count_if, moment

UNTRIAGED = "untriaged"
NOT_CONCLUDED = "not_concluded"
ANONYMOUS, IDENTIFIED = "anonymous", "identified"
WEB, RECORDED_BY_STAFF = "web", "recorded_by_staff"
OVERDUE_KINDS = tuple(DeadlineKind)
USAGE_KINDS = ("report_submitted", "follow_up_login")


@dataclass
class Breakdown:
    """Counts per value of one dimension, every value listed (zeros too), in a fixed order."""

    name: str
    cells: "OrderedDict[str, int]"

    @property
    def total(self) -> int:
        return sum(self.cells.values())


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
    forwarding: Compliance
    overdue_now: Breakdown
    outreach: Outreach
    usage: Breakdown = field(default_factory=lambda: Breakdown("portal_use", OrderedDict()))

    @property
    def clocks(self) -> tuple[Compliance, ...]:
        return (self.acknowledgement, self.feedback, self.answer, self.forwarding)

    @property
    def channels_used(self) -> int:
        """How many kinds of channel brought at least one report (platforms counted apart)."""
        plain = sum(1 for key, value in self.by_channel.cells.items()
                    if value and key != Channel.SOCIAL_MEDIA.value)
        return plain + sum(1 for value in self.by_platform.cells.values() if value)


# --- SQL helpers ---------------------------------------------------------------------------------

def _ordered(keys, values: dict) -> "OrderedDict[str, int]":
    return OrderedDict((key, int(values.get(key) or 0)) for key in keys)


# --- the queries ---------------------------------------------------------------------------------

def received_columns(months: int) -> list[tuple[str, str | int, object]]:
    """(dimension, key, condition) of every count the received-in-period pass makes; the
    group figures (group_queries.py) count the same conditions per institution."""
    columns: list[tuple[str, str | int, object]] = []

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
    for index in range(months):  # local months, as UTC bounds (see Period.months)
        add("by_month", index, and_(Case.received_at >= moment(f"month{index}"),
                                    Case.received_at < moment(f"month{index + 1}")))
    return columns


@lru_cache(maxsize=64)
def _received_statement(months: int):
    """One pass over the period's index range: a COUNT(CASE …) column per value, so values
    with no report come back as 0. Built once per number of months (the statement and its
    compiled form are reused; only the bound dates change)."""
    columns = received_columns(months)
    statement = select(*[count_if(condition).label(f"c{index}")
                         for index, (_, _, condition) in enumerate(columns)]).where(
        Case.institution_id == bindparam("institution"),
        Case.received_at >= moment("start"), Case.received_at < moment("end"))
    return statement, [(dimension, key) for dimension, key, _ in columns]


def _received_breakdowns(institution_id: int, period: Period) -> dict[str, Breakdown]:
    months = period.months()
    statement, keys = _received_statement(len(months))
    parameters = {"institution": institution_id, "start": period.start_utc,
                  "end": period.end_utc}
    for index, (_, month_start, month_end) in enumerate(months):
        parameters[f"month{index}"], parameters[f"month{index + 1}"] = month_start, month_end
    row = db.session.execute(statement, parameters).one()
    grouped: dict[str, OrderedDict] = {}
    for index, (dimension, key) in enumerate(keys):
        if dimension == "by_month":
            key = months[key][0]
        grouped.setdefault(dimension, OrderedDict())[key] = int(row[index] or 0)
    return {dimension: Breakdown(dimension, cells) for dimension, cells in grouped.items()}


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
            audience += int(reached or 0)
        else:
            activities[platform.value] = count
            participants += int(present or 0)
    keys = [platform.value for platform in OutreachPlatform]
    return Outreach(posts=Breakdown("preventive_posts", _ordered(keys, posts)),
                    post_audience=audience, activities=sum(activities.values()),
                    participants=participants,
                    activities_by_platform=Breakdown("awareness_activities",
                                                     _ordered(keys, activities)))


def _usage(institution_id: int, period: Period, sent_through_portal: int) -> Breakdown:
    """Counters are kept per local day (services/indicators/usage.py), so the period's days select
    them exactly. Reports sent through the portal are counted from the cases, as everywhere
    else on the dashboard."""
    rows = db.session.execute(
        select(UsageCounter.kind, func.sum(UsageCounter.count))
        .where(UsageCounter.institution_id == institution_id,
               UsageCounter.day >= period.first_day, UsageCounter.day <= period.last_day)
        .group_by(UsageCounter.kind)).all()
    counts = dict(rows)
    counts["report_submitted"] = sent_through_portal
    return Breakdown("portal_use", _ordered(USAGE_KINDS, counts))


def compute(institution_id: int, period: Period, now: datetime | None = None) -> Indicators:
    """Exact indicators for one institution and period. Callers that show them to a person
    check the role first (dashboard) or suppress small counts (public outputs)."""
    now = now or utcnow()
    received = _received_breakdowns(institution_id, period)
    acknowledgement, feedback, answer, forwarding = clocks(institution_id, period, now)
    return assembled(institution_id, period, now, received,
                     acknowledgement=acknowledgement, feedback=feedback, answer=answer,
                     forwarding=forwarding, overdue_now=_overdue_now(institution_id, now),
                     outreach=_outreach(institution_id, period),
                     usage=_usage(institution_id, period, received["by_origin"].cells[WEB]))


def assembled(institution_id: int, period: Period, now: datetime, received: dict, *,
              acknowledgement, feedback, answer, forwarding, overdue_now, outreach,
              usage) -> Indicators:
    """One institution's Indicators from its received-in-period breakdowns (one institution's
    query here, one row of the grouped queries in group_queries.py) and the other figures."""
    return Indicators(
        institution_id=institution_id, period=period, generated_at=now,
        received=received["by_channel"].total, by_channel=received["by_channel"],
        by_platform=received["by_platform"], by_category=received["by_category"],
        by_regime=received["by_regime"], by_status=received["by_status"],
        by_outcome=received["by_outcome"], by_anonymity=received["by_anonymity"],
        by_origin=received["by_origin"], by_month=received["by_month"],
        acknowledgement=acknowledgement, feedback=feedback, answer=answer,
        forwarding=forwarding, overdue_now=overdue_now, outreach=outreach, usage=usage)


def dashboard(member: StaffMember, period: Period, now: datetime | None = None) -> Indicators:
    """The coordinator's exact figures for their institution."""
    require_role(member, Role.COORDINATOR)
    return compute(member.institution_id, period, now)


def years_with_data(institution_id: int, now: datetime | None = None) -> list[int]:
    """Local calendar years from the first report or outreach entry to this year, newest
    first; empty when there is nothing yet."""
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

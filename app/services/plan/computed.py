"""Indicator values the portal computes from what it already holds, each with where it comes
from and for which period. Counts and labels only: nothing here reads a case's content.

The names are what a plan's data file writes in an indicator's `computed`:

- 2.2: reports_received, channels_used, preventive_posts (app.services.indicators);
- 2.1: awareness_activities, awareness_participants, awareness_feedback (the outreach
  log's activities);
- 2.3: digital_services, digital_users (the portal's online channel: reports sent through it
  and follow-up sign-ins, counted per day without anything about who);
- 3.2: open_data_sets (open-data publications recorded with their address);
- 1.5, 1.6: risks_identified, risks_remediated (the corruption-risk register);
- 1.4: plan_published (the plan is on the institution's public page);
- 1.7: plan_degree, measures_changed (this workspace's own evaluation)."""
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from flask_babel import format_date, gettext
from sqlalchemy import func, select

from ...extensions import db
from ...labels import CHANNEL, PLATFORM
from ...models import (
    Channel,
    CorruptionRisk,
    OpenDataPublication,
    OutreachItem,
    OutreachKind,
    OutreachPlatform,
    Platform,
)
from ..indicators import compute as stats
from ..indicators.periods import Period


@dataclass(frozen=True)
class Computed:
    value: str
    source: str


class Facts:
    """What the portal knows for one institution and year, computed once per page."""

    def __init__(self, institution_id: int, year: int, plan=None):
        self.institution_id = institution_id
        self.year = year
        self.period = Period.year(year)
        self.plan = plan

    @cached_property
    def indicators(self) -> stats.Indicators:
        return stats.compute(self.institution_id, self.period)

    @property
    def span(self) -> str:
        return f"{format_date(self.period.first_day, 'dd.MM.yyyy')}–" \
               f"{format_date(self.period.last_day, 'dd.MM.yyyy')}"

    def source(self, what: str) -> str:
        return gettext("Computed by the portal: %(what)s, %(span)s", what=what, span=self.span)


def _reports_received(facts: Facts) -> Computed:
    return Computed(str(facts.indicators.received),
                    facts.source(gettext("reports received (every channel)")))


def _channels_used(facts: Facts) -> Computed:
    indicators = facts.indicators
    used = [f"{CHANNEL[Channel(key)]} ({count})"
            for key, count in indicators.by_channel.cells.items()
            if count and key != Channel.SOCIAL_MEDIA.value]
    used += [f"{PLATFORM[Platform(key)]} ({count})"
             for key, count in indicators.by_platform.cells.items() if count]
    return Computed(", ".join(used) or gettext("none"),
                    facts.source(gettext("reports received by channel")))


def _preventive_posts(facts: Facts) -> Computed:
    from ...stats.labels import OUTREACH_PLATFORM  # the outreach log's own platform names

    posts = facts.indicators.outreach.posts
    parts = [f"{OUTREACH_PLATFORM[OutreachPlatform(key)]} {count}"
             for key, count in posts.cells.items() if count]
    value = str(posts.total) + (f" ({', '.join(parts)})" if parts else "")
    return Computed(value, facts.source(gettext("preventive posts in the outreach log, "
                                                "per platform")))


def _awareness_activities(facts: Facts) -> Computed:
    return Computed(str(facts.indicators.outreach.activities),
                    facts.source(gettext("awareness activities in the outreach log")))


def _awareness_participants(facts: Facts) -> Computed:
    return Computed(str(facts.indicators.outreach.participants),
                    facts.source(gettext("participants in the outreach log's awareness "
                                         "activities")))


def _awareness_feedback(facts: Facts) -> Computed:
    said = db.session.scalars(select(OutreachItem.feedback).where(
        OutreachItem.institution_id == facts.institution_id,
        OutreachItem.kind == OutreachKind.ACTIVITY, OutreachItem.feedback.is_not(None),
        OutreachItem.published_on >= facts.period.first_day,
        OutreachItem.published_on <= facts.period.last_day)
        .order_by(OutreachItem.published_on, OutreachItem.id)).all()
    return Computed(" / ".join(said) or gettext("none"),
                    facts.source(gettext("participants' feedback in the outreach log")))


def _digital_services(facts: Facts) -> Computed:
    return Computed(gettext("Online integrity reports and their follow-up (Avertizor)"),
                    facts.source(gettext("the portal's online channel")))


def _digital_users(facts: Facts) -> Computed:
    usage = facts.indicators.usage.cells
    sent, returned = usage.get("report_submitted", 0), usage.get("follow_up_login", 0)
    return Computed(str(sent + returned),
                    facts.source(gettext("%(sent)d reports sent through the portal and "
                                         "%(returned)d follow-up sign-ins (counts only)",
                                         sent=sent, returned=returned)))


def open_data_count(institution_id: int, period: Period) -> int:
    return db.session.scalar(select(func.count(OpenDataPublication.id)).where(
        OpenDataPublication.institution_id == institution_id,
        OpenDataPublication.published_on >= period.first_day,
        OpenDataPublication.published_on <= period.last_day))


def _open_data_sets(facts: Facts) -> Computed:
    return Computed(str(open_data_count(facts.institution_id, facts.period)),
                    facts.source(gettext("open-data publications recorded with their "
                                         "address")))


def risks_identified_in(institution_id: int, period: Period) -> list[CorruptionRisk]:
    return list(db.session.scalars(select(CorruptionRisk).where(
        CorruptionRisk.institution_id == institution_id,
        CorruptionRisk.identified_on >= period.first_day,
        CorruptionRisk.identified_on <= period.last_day).order_by(CorruptionRisk.identified_on,
                                                                  CorruptionRisk.id)))


def _risks_identified(facts: Facts) -> Computed:
    return Computed(str(len(risks_identified_in(facts.institution_id, facts.period))),
                    facts.source(gettext("risks identified and assessed in the risk register")))


def _risks_remediated(facts: Facts) -> Computed:
    count = db.session.scalar(select(func.count(CorruptionRisk.id)).where(
        CorruptionRisk.institution_id == facts.institution_id,
        CorruptionRisk.remediated_on >= facts.period.first_day,
        CorruptionRisk.remediated_on <= facts.period.last_day))
    return Computed(str(count), facts.source(gettext("risks remedied in the risk register "
                                                     "(Anexa C)")))


def _plan_published(facts: Facts) -> Computed:
    published = bool(facts.plan is not None and facts.plan.published)
    return Computed(gettext("yes") if published else gettext("no"),
                    gettext("Computed by the portal: the plan's public page, today"))


def _plan_degree(facts: Facts) -> Computed:
    from .evaluation import degree

    share = degree(facts.plan, facts.year)
    return Computed(f"{share.percent:.1f}%".replace(".", ","),
                    facts.source(share.method))


def _measures_changed(facts: Facts) -> Computed:
    from .editing import changed_in_year

    changed = changed_in_year(facts.plan, facts.year)
    return Computed(", ".join(changed) or gettext("none"),
                    facts.source(gettext("versions of the plan's measures")))


COMPUTED: dict[str, Callable[[Facts], Computed]] = {
    "reports_received": _reports_received,
    "channels_used": _channels_used,
    "preventive_posts": _preventive_posts,
    "awareness_activities": _awareness_activities,
    "awareness_participants": _awareness_participants,
    "awareness_feedback": _awareness_feedback,
    "digital_services": _digital_services,
    "digital_users": _digital_users,
    "open_data_sets": _open_data_sets,
    "risks_identified": _risks_identified,
    "risks_remediated": _risks_remediated,
    "plan_published": _plan_published,
    "plan_degree": _plan_degree,
    "measures_changed": _measures_changed,
}


def compute(name: str, facts: Facts) -> Computed:
    return COMPUTED[name](facts)

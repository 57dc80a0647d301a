"""Open data (measure 3.2): the indicators with small counts suppressed, as data.gov.ro takes
them — a UTF-8 CSV with one indicator per row (period, indicator, dimension, value), a small
JSON metadata file beside it, and a JSON document holding both.

The same public view feeds the transparency page, so what a visitor reads and what is
published as open data are one and the same figures. Only the public-safe breakdowns are
included (see suppression.py, rule 5). Every export made by staff or by the command line is
written to the audit log.
"""
import csv
import io
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..models import Channel, Platform, Role, StaffMember
from . import audit
from .authz import require_role
from .compliance import LATE, MET, MET_EXTENDED, Compliance
from .errors import NotAuthorised
from .periods import Period
from .stats import Indicators, compute
from .suppression import WITHHELD, Shown, below, median, protect, share, threshold_for

CSV_COLUMNS = ("period", "indicator", "dimension", "value")
FORMATS = ("csv", "json", "metadata")
DEFAULT_LICENCE = "OGL-ROU-1.0"
SOCIAL = Channel.SOCIAL_MEDIA.value

# What each published indicator means; the metadata file carries these descriptions.
INDICATORS = OrderedDict([
    ("reports_received", _l("Reports received in the period (measure 2.2, first indicator).")),
    ("reports_by_channel", _l("Reports received by channel (measure 2.2, second indicator); "
                              "social media reports by platform, as social_media/<platform>.")),
    ("reports_by_category", _l("Reports received by category.")),
    ("reports_by_outcome", _l("Reports received in the period by their current outcome; "
                              "not_concluded: still being examined.")),
    ("reports_by_anonymity", _l("Reports received anonymously or with the reporter's "
                                "identity.")),
    ("reports_by_month", _l("Reports received per calendar month (Europe/Bucharest).")),
    ("acknowledgement_7_days", _l("Whistleblower reports (Law 361/2022) whose acknowledgement "
                                  "was due in the period: acknowledged within 7 days (met), "
                                  "later or not at all (late), not yet due (pending); "
                                  "share_met_percent = met / (met + late); median_days from "
                                  "receipt.")),
    ("feedback_3_months", _l("Whistleblower reports whose feedback was due in the period: "
                             "feedback (a reasoned answer or a message after the "
                             "acknowledgement) within 3 months (met), later or not at all "
                             "(late), not yet due (pending).")),
    ("petition_answer_30_45_days", _l("Petitions (OG 27/2002) whose answer was due in the "
                                      "period: answered within 30 days (met), within the "
                                      "deadline extended to 45 days (met_extended), later or "
                                      "not at all (late), not yet due (pending).")),
    ("preventive_posts", _l("Preventive messages and posts published on the institution's "
                            "channels, by platform (measure 2.2, third indicator).")),
    ("awareness_activities", _l("Awareness activities held and their participants "
                                "(measure 2.1).")),
])


@dataclass
class PublicClock:
    due: Shown
    cells: "OrderedDict[str, Shown]"
    share_met: float | None
    median_days: float | None


@dataclass
class PublicIndicators:
    """Everything public about one period, already suppressed."""

    period: Period
    threshold: int
    received: Shown
    channels: "OrderedDict[str, Shown]"  # web, email, …, social_media/facebook, …
    categories: "OrderedDict[str, Shown]"
    outcomes: "OrderedDict[str, Shown]"
    anonymity: "OrderedDict[str, Shown]"
    months: "OrderedDict[str, Shown]"
    clocks: "OrderedDict[str, PublicClock]"
    posts: "OrderedDict[str, int]"  # the institution's own posts: nothing to protect
    activities: int
    participants: int
    generated_at: datetime

    @property
    def posts_total(self) -> int:
        return sum(self.posts.values())


def channel_leaves(indicators: Indicators) -> "OrderedDict[str, int]":
    """Channels with social media split into its platforms and no social media subtotal."""
    leaves = OrderedDict()
    for channel, count in indicators.by_channel.cells.items():
        if channel == SOCIAL:
            for platform in Platform:
                leaves[f"{SOCIAL}/{platform.value}"] = indicators.by_platform.cells[platform.value]
        else:
            leaves[channel] = count
    return leaves


def _public_clock(clock: Compliance, threshold: int) -> PublicClock:
    due, cells = protect(clock.cells, threshold)
    extra = [cells[MET_EXTENDED]] if MET_EXTENDED in cells else []
    return PublicClock(due=due, cells=cells,
                       share_met=share(cells[MET], cells[LATE], *extra),
                       median_days=median(clock.median_days, clock.measured, threshold))


def public_view(indicators: Indicators, threshold: int) -> PublicIndicators:
    received, channels = protect(channel_leaves(indicators), threshold)
    return PublicIndicators(
        period=indicators.period, threshold=threshold, received=received, channels=channels,
        categories=protect(indicators.by_category.cells, threshold)[1],
        outcomes=protect(indicators.by_outcome.cells, threshold)[1],
        anonymity=protect(indicators.by_anonymity.cells, threshold)[1],
        months=protect(indicators.by_month.cells, threshold)[1],
        clocks=OrderedDict((clock.name, _public_clock(clock, threshold)) for clock in (
            indicators.acknowledgement, indicators.feedback, indicators.answer)),
        posts=OrderedDict(indicators.outreach.posts.cells),
        activities=indicators.outreach.activities,
        participants=indicators.outreach.participants, generated_at=indicators.generated_at)


def public_indicators(institution, period: Period) -> PublicIndicators:
    """The suppressed figures for anyone: no role needed, nothing exact below the threshold."""
    return public_view(compute(institution.id, period), threshold_for(institution))


def _number(value) -> str:
    return "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))


def rows(view: PublicIndicators) -> list[tuple[str, str, str, str]]:
    """(period, indicator, dimension, value) per row; value is a number, "<T", "x" or empty
    (a share or median that is not published)."""
    period = view.period.code
    out = [(period, "reports_received", "total", view.received.text)]
    for indicator, cells in (("reports_by_channel", view.channels),
                             ("reports_by_category", view.categories),
                             ("reports_by_outcome", view.outcomes),
                             ("reports_by_anonymity", view.anonymity),
                             ("reports_by_month", view.months)):
        out += [(period, indicator, key, cell.text) for key, cell in cells.items()]
    for name, clock in view.clocks.items():
        out.append((period, name, "due", clock.due.text))
        out += [(period, name, key, cell.text) for key, cell in clock.cells.items()]
        out.append((period, name, "share_met_percent", _number(clock.share_met)))
        out.append((period, name, "median_days", _number(clock.median_days)))
    out.append((period, "preventive_posts", "total", str(view.posts_total)))
    out += [(period, "preventive_posts", key, str(count)) for key, count in view.posts.items()]
    out.append((period, "awareness_activities", "activities", str(view.activities)))
    out.append((period, "awareness_activities", "participants", str(view.participants)))
    return out


def metadata(view: PublicIndicators, institution, generated_at) -> dict:
    threshold = view.threshold
    return {
        "title": str(_l("Integrity reports and prevention indicators, %(period)s",
                        period=view.period.code)),
        "publisher": institution.name,
        "period": view.period.code,
        "period_start": view.period.first_day.isoformat(),
        "period_end": view.period.last_day.isoformat(),
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "licence": current_app.config.get("OPEN_DATA_LICENCE", DEFAULT_LICENCE),
        "encoding": "UTF-8",
        "columns": list(CSV_COLUMNS),
        "suppression_threshold": threshold,
        "suppression": str(_l(
            "Counts from 1 to %(max)d are shown as %(below)s (fewer than %(threshold)d, which "
            "may also stand for 0, so that no hidden count can be worked out by subtraction); "
            "%(withheld)s marks a breakdown withheld for the same reason; an empty value is a "
            "share or median that is not published.", max=max(threshold - 1, 0),
            below=below(threshold), threshold=threshold, withheld=WITHHELD)),
        "indicators": {name: str(text) for name, text in INDICATORS.items()},
    }


def to_csv(view: PublicIndicators) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows(view))
    return buffer.getvalue()


def to_json(view: PublicIndicators, institution, generated_at) -> str:
    document = {"metadata": metadata(view, institution, generated_at),
                "data": [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows(view)]}
    return json.dumps(document, ensure_ascii=False, indent=1)


def metadata_json(view: PublicIndicators, institution, generated_at) -> str:
    return json.dumps(metadata(view, institution, generated_at), ensure_ascii=False, indent=1)


def render(view: PublicIndicators, kind: str, institution, generated_at) -> str:
    if kind == "csv":
        return to_csv(view)
    if kind == "json":
        return to_json(view, institution, generated_at)
    return metadata_json(view, institution, generated_at)


@dataclass
class Export:
    filename: str
    mimetype: str
    body: str


MIMETYPES = {"csv": "text/csv", "json": "application/json", "metadata": "application/json"}


def _made(institution, period: Period, kind: str) -> tuple[Export, PublicIndicators]:
    view = public_indicators(institution, period)
    return public_file(institution, view, kind), view


def public_file(institution, view: PublicIndicators, kind: str) -> Export:
    """The published file as anyone may download it, from the figures already suppressed
    for the transparency page (not audited: it is what everyone can read there, and a
    visitor is never recorded)."""
    if kind not in FORMATS:
        raise ValueError(kind)
    stem = f"avertizor-{institution.slug}-{view.period.code.replace('/', '_')}"
    filename = f"{stem}-metadata.json" if kind == "metadata" else f"{stem}.{kind}"
    return Export(filename=filename, mimetype=MIMETYPES[kind],
                  body=render(view, kind, institution, view.generated_at))


def export(institution, period: Period, kind: str, *, actor: StaffMember | None) -> Export:
    """The open-data file for a period, audited ("stats_export" with format and period).
    `actor` is the coordinator, or None for the command line."""
    if actor is not None:
        require_role(actor, Role.COORDINATOR)
        if actor.institution_id != institution.id:
            raise NotAuthorised(_l("Your role does not allow this."))
    made, view = _made(institution, period, kind)
    audit.record("stats_export", institution_id=institution.id, actor=actor,
                 detail={"format": kind, "period": period.code, "threshold": view.threshold})
    return made

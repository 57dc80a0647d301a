"""Open data (measure 3.2): the indicators with small counts suppressed, as data.gov.ro takes
them — a UTF-8 CSV with one indicator per row, a small JSON metadata file beside it, and a
JSON document holding both. Each row names the institution (SIRUTA code, CUI) so that a
ministry can combine communes, and carries a numeric `value` (empty when not published) with
a separate `flag` ("suppressed", "not_published", "provisional"), so that CKAN types the
value column as a number.

What is offered for publication, anywhere (transparency page, dashboard exports, command
line), is whole calendar years only: a year and its quarters or months published together
would give hidden cells back by subtraction. A year that is not over is marked provisional
in every row, in the metadata and on the dashboard.

The legal clocks are published under rules that keep them from pairing with other tables
(see suppression.py for the cells of one table):

- In a completed year "not yet due" is zero by construction, so it is not published (it could
  not hide anything: late = due - met would follow).
- The clocks' populations split the year's reports by regime (acknowledgement and feedback:
  reports that are not petitions; answer: petitions), so received - petitions due would give
  a small count back. Their "due" figures are published only when each is 0 or at least the
  threshold; otherwise every deadline cell of the year is withheld.
- The forwarding clock counts the reports whose outcome is "forwarded": it is withheld when
  that outcome is hidden, and otherwise protected on its own (its total is published anyway).

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

from ...models import Channel, Outcome, Platform, Role, StaffMember
from ..access.guards import require_role
from ..audit import chain as audit
from ..errors import DomainError, NotAuthorised
from .clocks import LATE, MET, MET_EXTENDED, PENDING, Compliance
from .compute import Indicators, compute
from .periods import YEAR, Period
from .suppression import WITHHELD, Shown, median, protect, share, threshold_for

CSV_COLUMNS = ("siruta_code", "cui", "period", "period_status", "indicator", "dimension",
               "value", "flag")
FINAL, PROVISIONAL = "final", "provisional"
SUPPRESSED, NOT_PUBLISHED = "suppressed", "not_published"
FORWARDED = Outcome.FORWARDED.value
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
    ("forward_5_days", _l("Reports triaged as not competent whose forwarding was due in the "
                          "period: forwarded within 5 days (met), later or not at all (late), "
                          "not yet due (pending).")),
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
    provisional: bool = False  # the period is not over: figures will still change

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


def _clock_cells(clock: Compliance, complete: bool) -> "OrderedDict[str, int]":
    cells = OrderedDict(clock.cells)
    if complete and not cells.get(PENDING):
        del cells[PENDING]  # zero by construction once the period is over
    return cells


def _withheld_clock(clock: Compliance, complete: bool) -> PublicClock:
    withheld = Shown(WITHHELD, None)
    return PublicClock(due=withheld, cells=OrderedDict(
        (key, withheld) for key in _clock_cells(clock, complete)), share_met=None,
        median_days=None)


def _public_clock(clock: Compliance, threshold: int, complete: bool) -> PublicClock:
    due, cells = protect(_clock_cells(clock, complete), threshold)
    extra = [cells[MET_EXTENDED]] if MET_EXTENDED in cells else []
    return PublicClock(due=due, cells=cells,
                       share_met=share(cells[MET], cells[LATE], *extra),
                       median_days=median(clock.median_days, clock.measured, threshold))


def _public_clocks(indicators: Indicators, threshold: int, complete: bool,
                   outcomes: "OrderedDict[str, Shown]") -> "OrderedDict[str, PublicClock]":
    """The legal clocks as published (the rules in this module's docstring)."""
    law_clocks = (indicators.acknowledgement, indicators.feedback, indicators.answer)
    split_safe = threshold <= 1 or all(clock.due == 0 or clock.due >= threshold
                                       for clock in law_clocks)
    published = OrderedDict()
    for clock in law_clocks:
        published[clock.name] = (_public_clock(clock, threshold, complete) if split_safe
                                 else _withheld_clock(clock, complete))
    forwarding = indicators.forwarding
    if not outcomes[FORWARDED].hidden:
        published[forwarding.name] = _public_clock(forwarding, threshold, complete)
    else:
        published[forwarding.name] = _withheld_clock(forwarding, complete)
    return published


def public_view(indicators: Indicators, threshold: int) -> PublicIndicators:
    complete = indicators.period.is_complete(indicators.generated_at)
    received, channels = protect(channel_leaves(indicators), threshold)
    outcomes = protect(indicators.by_outcome.cells, threshold)[1]
    return PublicIndicators(
        period=indicators.period, threshold=threshold, received=received, channels=channels,
        categories=protect(indicators.by_category.cells, threshold)[1],
        outcomes=outcomes,
        anonymity=protect(indicators.by_anonymity.cells, threshold)[1],
        months=protect(indicators.by_month.cells, threshold)[1],
        clocks=_public_clocks(indicators, threshold, complete, outcomes),
        posts=OrderedDict(indicators.outreach.posts.cells),
        activities=indicators.outreach.activities,
        participants=indicators.outreach.participants, generated_at=indicators.generated_at,
        provisional=not complete)


def public_indicators(institution, period: Period) -> PublicIndicators:
    """The suppressed figures for anyone: no role needed, nothing exact below the threshold."""
    return public_view(compute(institution.id, period), threshold_for(institution))


class PeriodNotPublished(DomainError):
    pass


def publishable(period: Period) -> None:
    """Open data is offered for whole calendar years only (see the module's docstring)."""
    if period.kind != YEAR:
        raise PeriodNotPublished(_l("Open data is published for whole calendar years only: "
                                    "a year and its parts together would let hidden counts "
                                    "be worked out. Choose a year."), field="period")


def _number(value) -> str:
    return "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))


def _items(view: PublicIndicators) -> list[tuple[str, str, object]]:
    """(indicator, dimension, figure): a Shown count, a plain int (the institution's own
    posts), or a share / median (float, or None when not published)."""
    out: list[tuple[str, str, object]] = [("reports_received", "total", view.received)]
    for indicator, cells in (("reports_by_channel", view.channels),
                             ("reports_by_category", view.categories),
                             ("reports_by_outcome", view.outcomes),
                             ("reports_by_anonymity", view.anonymity),
                             ("reports_by_month", view.months)):
        out += [(indicator, key, cell) for key, cell in cells.items()]
    for name, clock in view.clocks.items():
        out.append((name, "due", clock.due))
        out += [(name, key, cell) for key, cell in clock.cells.items()]
        out.append((name, "share_met_percent", clock.share_met))
        out.append((name, "median_days", clock.median_days))
    out.append(("preventive_posts", "total", view.posts_total))
    out += [("preventive_posts", key, count) for key, count in view.posts.items()]
    out.append(("awareness_activities", "activities", view.activities))
    out.append(("awareness_activities", "participants", view.participants))
    return out


def _text(figure) -> str:
    return figure.text if isinstance(figure, Shown) else _number(figure)


def rows(view: PublicIndicators) -> list[tuple[str, str, str, str]]:
    """(period, indicator, dimension, text) per figure as a person reads it: a number, "<T",
    "x" or empty (a share or median that is not published)."""
    period = view.period.code
    return [(period, indicator, dimension, _text(figure))
            for indicator, dimension, figure in _items(view)]


def _value_and_flag(figure, provisional: bool) -> tuple[int | float | None, str]:
    value = figure.value if isinstance(figure, Shown) else figure
    if value is None:
        return None, SUPPRESSED if isinstance(figure, Shown) else NOT_PUBLISHED
    return value, PROVISIONAL if provisional else ""


def records(view: PublicIndicators, institution) -> list[dict]:
    """The open-data rows: CSV_COLUMNS, with a number (or None) as value."""
    base = {"siruta_code": institution.siruta_code or "", "cui": institution.cui or "",
            "period": view.period.code,
            "period_status": PROVISIONAL if view.provisional else FINAL}
    out = []
    for indicator, dimension, figure in _items(view):
        value, flag = _value_and_flag(figure, view.provisional)
        out.append({**base, "indicator": indicator, "dimension": dimension, "value": value,
                    "flag": flag})
    return out


def metadata(view: PublicIndicators, institution, generated_at) -> dict:
    threshold = view.threshold
    return {
        "title": str(_l("Integrity reports and prevention indicators, %(period)s",
                        period=view.period.code)),
        "publisher": institution.name,
        "publisher_siruta_code": institution.siruta_code,
        "publisher_cui": institution.cui,
        "period": view.period.code,
        "period_start": view.period.first_day.isoformat(),
        "period_end": view.period.last_day.isoformat(),
        "period_status": PROVISIONAL if view.provisional else FINAL,
        "provisional": view.provisional,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "licence": current_app.config.get("OPEN_DATA_LICENCE", DEFAULT_LICENCE),
        "encoding": "UTF-8",
        "columns": list(CSV_COLUMNS),
        "flags": {
            SUPPRESSED: str(_l("The count is hidden (below the threshold, or hidden with it "
                               "so that it cannot be worked out by subtraction); value is "
                               "empty.")),
            NOT_PUBLISHED: str(_l("A share or median that is not published because a count "
                                  "it is computed from is hidden; value is empty.")),
            PROVISIONAL: str(_l("The period is not over: the figure will still change.")),
        },
        "suppression_threshold": threshold,
        "suppression": str(_l(
            "Counts from 1 to %(max)d are not published: their value is empty and their flag "
            "is “suppressed”. So that no hidden count can be worked out by subtraction, other "
            "cells of the same table (zeros included) may be suppressed with them, and a share "
            "or median computed from a hidden count is not published.",
            max=max(threshold - 1, 0))),
        "indicators": {name: str(text) for name, text in INDICATORS.items()},
    }


def to_csv(view: PublicIndicators, institution) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows([_number(row[column]) if column == "value" else row[column]
                      for column in CSV_COLUMNS] for row in records(view, institution))
    return buffer.getvalue()


def to_json(view: PublicIndicators, institution, generated_at) -> str:
    document = {"metadata": metadata(view, institution, generated_at),
                "data": records(view, institution)}
    return json.dumps(document, ensure_ascii=False, indent=1)


def metadata_json(view: PublicIndicators, institution, generated_at) -> str:
    return json.dumps(metadata(view, institution, generated_at), ensure_ascii=False, indent=1)


def render(view: PublicIndicators, kind: str, institution, generated_at) -> str:
    if kind == "csv":
        return to_csv(view, institution)
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
    publishable(period)
    made, view = _made(institution, period, kind)
    audit.record("stats_export", institution_id=institution.id, actor=actor,
                 detail={"format": kind, "period": period.code, "threshold": view.threshold,
                         "provisional": view.provisional})
    return made

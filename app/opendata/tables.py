"""The group page's tables: the group figures (ranges where communes' counts are hidden) and
one line per institution of the group with what measure 2.2 shows of it."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..services.indicators.adoption import (
    ACTIVE,
    CHANNEL_UNUSED,
    NO_PREVENTION,
    NOT_REPORTING,
    Adoption,
)
from ..services.indicators.group_public import PublicGroup
from ..stats.labels import CLOCK, CLOCK_CELL, dimension
from ..stats.numbers import percent

STATE = {
    NOT_REPORTING: _l("Nothing reported: no report and no preventive post"),
    CHANNEL_UNUSED: _l("Channel unused: preventive posts, no report"),
    NO_PREVENTION: _l("Reports, but no preventive post"),
    ACTIVE: _l("Reports and preventive posts"),
}
KINDS = {"reports_by_channel": "channel", "reports_by_outcome": "outcome",
         "preventive_posts": "outreach_platform"}


@dataclass
class Table:
    id: str
    caption: str
    rows: list[tuple[str, str, str, bool]]  # (label, figure, hidden institutions, total row)


def _row(published: PublicGroup, label, indicator: str, dimension_key: str, total=False):
    figure = published.total(indicator, dimension_key)
    return (str(label), figure.text, "" if figure.exact else str(figure.hidden), total)


def _breakdown(published: PublicGroup, indicator: str) -> list:
    return [_row(published, dimension(KINDS[indicator], key), indicator, key)
            for key_indicator, key in published.totals if key_indicator == indicator]


def tables(published: PublicGroup) -> list[Table]:
    received = Table("received", str(_l("Reports received by channel")), [
        _row(published, _l("Total"), "reports_received", "total", True),
        *_breakdown(published, "reports_by_channel")])
    outcomes = Table("outcomes", str(_l("Reports received, by their outcome so far")),
                     _breakdown(published, "reports_by_outcome"))
    deadlines = Table("deadlines", str(_l("Legal deadlines that fell in the year")), [])
    for indicator, key in published.totals:
        if indicator in CLOCK:
            label = CLOCK[indicator] if key == "due" else CLOCK_CELL.get(key, key)
            deadlines.rows.append(_row(published, label, indicator, key, key == "due"))
            if key == "late":
                deadlines.rows.append((str(_l("Share met")),
                                       percent(published.shares.get(indicator)), "", False))
    posts = Table("posts", str(_l("Preventive messages and posts published")), [
        _row(published, _l("Total"), "preventive_posts", "total", True),
        _row(published, _l("Awareness activities"), "awareness_activities", "activities"),
        _row(published, _l("Participants in awareness activities"), "awareness_activities",
             "participants")])
    return [received, outcomes, deadlines, posts]


def state_label(entry: Adoption) -> str:
    return str(STATE[entry.state])

"""The public transparency page's tables: suppressed figures only (exports.public_view), one
column per completed year, no free text and no date of any single case. Which years, and their
figures, come from app.services.indicators.transparency."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..services.indicators.clocks import MET_EXTENDED
from ..services.indicators.exports import PublicIndicators
from .labels import CLOCK, CLOCK_CELL, dimension
from .numbers import percent


@dataclass
class Table:
    id: str
    caption: str
    rows: list[tuple[str, list[str], bool]]  # (label, one text per year, is a total row)


def _percent(value) -> str:
    return percent(value)  # in the reader's locale: "66,7 %" in Romanian


def tables(views: list[PublicIndicators]) -> list[Table]:
    if not views:
        return []
    first = views[0]
    received = Table("received", str(_l("Reports received")), [])
    received.rows.append((str(_l("Total")), [view.received.text for view in views], True))
    channels = Table("channels", str(_l("Reports received by channel")), [
        (str(dimension("channel", key)), [view.channels[key].text for view in views], False)
        for key in first.channels])
    outcomes = Table("outcomes", str(_l("Reports received, by their outcome so far")), [
        (str(dimension("outcome", key)), [view.outcomes[key].text for view in views], False)
        for key in first.outcomes])
    deadlines = Table("deadlines", str(_l("Legal deadlines that fell in the year")), [])
    for name, clock in first.clocks.items():
        deadlines.rows.append((str(CLOCK[name]), [view.clocks[name].due.text for view in views],
                               True))
        for key in clock.cells:
            if key == MET_EXTENDED and not any(view.clocks[name].cells[key].text != "0"
                                               for view in views):
                continue
            deadlines.rows.append((str(CLOCK_CELL[key]),
                                   [view.clocks[name].cells[key].text for view in views], False))
        deadlines.rows.append((str(_l("Share met")),
                               [_percent(view.clocks[name].share_met) for view in views], False))
    posts = Table("posts", str(_l("Preventive messages and posts published")), [
        (str(dimension("outreach_platform", key)), [str(view.posts[key]) for view in views],
         False) for key in first.posts if any(view.posts[key] for view in views)])
    posts.rows.append((str(_l("Total")), [str(view.posts_total) for view in views], True))
    posts.rows.append((str(_l("Awareness activities")), [str(view.activities) for view in views],
                       False))
    posts.rows.append((str(_l("Participants in awareness activities")),
                       [str(view.participants) for view in views], False))
    return [received, channels, outcomes, deadlines, posts]

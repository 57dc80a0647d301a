"""The public transparency page's tables: suppressed figures only (exports.public_view), one
column per completed year, no free text and no date of any single case."""
import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..services.compliance import MET_EXTENDED
from ..services.exports import PublicIndicators, public_indicators
from ..services.periods import Period, local_today
from ..services.stats import years_with_data
from .labels import CLOCK, CLOCK_CELL, dimension
from .numbers import percent

MOST_YEARS = 10  # the page stays small; older years remain as CSV


@dataclass
class Table:
    id: str
    caption: str
    rows: list[tuple[str, list[str], bool]]  # (label, one text per year, is a total row)


def public_years(institution) -> list[int]:
    """Completed years with data, newest first. The current year is left out until it ends:
    a page that changed with every new report would tell, by comparing two visits, through
    which channel and when each one arrived."""
    this_year = local_today().year
    return [year for year in years_with_data(institution.id) if year < this_year][:MOST_YEARS]


def year_view(institution, year: int) -> PublicIndicators:
    """One completed year's public figures, kept for PUBLIC_STATS_CACHE_SECONDS (default
    600): the page is open to anyone, and a completed year changes only as its cases
    close, so nobody can make the server recompute every year on every request."""
    ttl = current_app.config.get("PUBLIC_STATS_CACHE_SECONDS", 600)
    cache = current_app.extensions.setdefault("transparency_cache", {})
    key, now = (institution.id, year), time.monotonic()
    kept = cache.get(key)
    if kept is not None and now - kept[0] < ttl:
        return kept[1]
    view = public_indicators(institution, Period.year(year))
    cache[key] = (now, view)
    return view


def year_views(institution, years: list[int]) -> list[PublicIndicators]:
    return [year_view(institution, year) for year in years]


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

"""The public transparency page's figures: which completed years are shown, and each year's
suppressed indicators (exports.public_indicators), kept in a short cache."""
import time

from flask import current_app

from .compute import years_with_data
from .exports import PublicIndicators, public_indicators
from .periods import Period, local_today

MOST_YEARS = 10  # the page stays small; older years remain as CSV


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

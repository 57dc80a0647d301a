"""The public group pages' figures: which years are offered, and a group's published figures
for one completed year, kept in a short cache (as transparency.py does for one institution)."""
import time

from flask import current_app

from .group import COUNTY, EVERYONE, Group, all_institutions, county_group, group_indicators
from .group_public import PublicGroup, public_group
from .periods import Period, local_today

YEARS_OFFERED = 5  # the last five completed years; the current one only once it is over


def public_years() -> list[int]:
    """Completed years, newest first: a page that changed with every new report would tell,
    visit after visit, when and where each one arrived (see transparency.py)."""
    this_year = local_today().year
    return list(range(this_year - 1, this_year - 1 - YEARS_OFFERED, -1))


def find_group(kind: str, label: str | None = None) -> Group | None:
    """The county (None when no institution is in it) or every institution."""
    if kind == EVERYONE:
        return all_institutions()
    if kind == COUNTY and label:
        group = county_group(label)
        return group if group.members else None
    return None


def published(group: Group, year: int) -> PublicGroup:
    """A completed year's public figures of the group, kept PUBLIC_STATS_CACHE_SECONDS."""
    ttl = current_app.config.get("PUBLIC_STATS_CACHE_SECONDS", 600)
    cache = current_app.extensions.setdefault("group_transparency_cache", {})
    key, now = (group.kind, group.label, tuple(group.ids), year), time.monotonic()
    kept = cache.get(key)
    if kept is not None and now - kept[0] < ttl:
        return kept[1]
    for stale in [old for old, (at, _) in cache.items() if now - at >= ttl]:
        del cache[stale]
    view = public_group(group_indicators(group, Period.year(year)))
    cache[key] = (now, view)
    return view

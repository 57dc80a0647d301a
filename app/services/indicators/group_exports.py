"""Open data for a group (a county, the whole country): one UTF-8 CSV with one row per
institution and indicator, in exports.py's columns plus the institution's name and county,
and a metadata JSON beside it with the group's figures (group_public.py: ranges where
communes' numbers are hidden) and who has not reported (adoption.py).

Every institution's rows are exactly what its own open-data file says (exports.records): a
reader can concatenate the communes' files or take this one, and get the same numbers.
Whole calendar years only, as for one institution (exports.publishable).
"""
import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from .adoption import STATES, adoption
from .exports import (
    CSV_COLUMNS,
    DEFAULT_LICENCE,
    FINAL,
    INDICATORS,
    NOT_PUBLISHED,
    PROVISIONAL,
    SUPPRESSED,
    _number,
    records,
)
from .group import EVERYONE, Group, paused_gc
from .group_public import PublicGroup

GROUP_CSV_COLUMNS = CSV_COLUMNS[:2] + ("name", "county") + CSV_COLUMNS[2:]


def group_records(published: PublicGroup) -> Iterator[dict]:
    for member in published.group.members:
        base = {"name": member.name, "county": member.county or ""}
        for row in records(published.views[member.id], member):
            yield {**row, **base}


def to_csv(published: PublicGroup) -> str:
    with paused_gc():
        return _to_csv(published)


def _to_csv(published: PublicGroup) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(GROUP_CSV_COLUMNS)
    writer.writerows([_number(row[column]) if column == "value" else row[column]
                      for column in GROUP_CSV_COLUMNS] for row in group_records(published))
    return buffer.getvalue()


def stem(group: Group, period_code: str) -> str:
    from ..operations.institutions import slugify

    who = "romania" if group.kind == EVERYONE else f"{group.kind}-{slugify(group.label)}"
    return f"avertizor-{who}-{period_code.replace('/', '_')}"


def metadata(published: PublicGroup, generated_at: datetime) -> dict:
    group, period = published.group, published.period
    thresholds = sorted(published.thresholds) or [0]
    entries = adoption(published)
    return {
        "title": str(_l("Integrity reports and prevention indicators of %(group)s, %(period)s",
                        group=group.label if group.kind != EVERYONE else _l("all institutions"),
                        period=period.code)),
        "group": {"kind": group.kind, "label": group.label,
                  "institutions": len(group.members)},
        "period": period.code,
        "period_start": period.first_day.isoformat(),
        "period_end": period.last_day.isoformat(),
        "period_status": PROVISIONAL if published.provisional else FINAL,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "licence": current_app.config.get("OPEN_DATA_LICENCE", DEFAULT_LICENCE),
        "encoding": "UTF-8",
        "columns": list(GROUP_CSV_COLUMNS),
        "flags": {
            SUPPRESSED: str(_l("The count is hidden (below the threshold, or hidden with it "
                               "so that it cannot be worked out by subtraction); value is "
                               "empty.")),
            NOT_PUBLISHED: str(_l("A share or median that is not published because a count "
                                  "it is computed from is hidden; value is empty.")),
            PROVISIONAL: str(_l("The period is not over: the figure will still change.")),
        },
        "suppression_threshold": thresholds[-1],
        "suppression": str(_l(
            "Each institution's rows are those of its own open-data file. The group totals "
            "are computed from those published figures only: where some institutions' "
            "counts are hidden, a total is given as a range (low: the sum of the published "
            "counts; high: with each hidden count at its largest possible value) and says how "
            "many institutions' counts are hidden.")),
        "totals": [{"indicator": indicator, "dimension": dimension, "low": figure.low,
                    "high": figure.high, "hidden_institutions": figure.hidden}
                   for (indicator, dimension), figure in published.totals.items()],
        "share_met_percent": dict(published.shares),
        "measure_2_2": {
            "states": list(STATES),
            "description": str(_l(
                "not_reporting: no report received and no preventive post or activity in the "
                "period; channel_unused: preventive posts or activities but no report; "
                "no_prevention: reports but no preventive post or activity; active: both.")),
            "institutions": [{"siruta_code": entry.member.siruta_code, "cui": entry.member.cui,
                              "name": entry.member.name, "county": entry.member.county,
                              "state": entry.state, "suspended": entry.member.suspended,
                              "reports_received": entry.reports_received,
                              "preventive_posts": entry.preventive_posts,
                              "awareness_activities": entry.activities}
                             for entry in entries],
        },
        "indicators": {name: str(text) for name, text in INDICATORS.items()},
    }


def metadata_json(published: PublicGroup, generated_at: datetime) -> str:
    return json.dumps(metadata(published, generated_at), ensure_ascii=False, indent=1)

"""Words for the indicators' dimensions, in the reader's language (shared with /transparency)."""
import enum
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from .. import labels
from ..models import (
    Category,
    Channel,
    DeadlineKind,
    Outcome,
    OutreachKind,
    OutreachKitItem,
    OutreachPlatform,
    Platform,
    Regime,
    Status,
)
from ..services.indicators import clocks as compliance
from ..services.indicators import compute as stats

OUTREACH_PLATFORM = {
    OutreachPlatform.FACEBOOK: "Facebook",
    OutreachPlatform.INSTAGRAM: "Instagram",
    OutreachPlatform.X: "X (Twitter)",
    OutreachPlatform.YOUTUBE: "YouTube",
    OutreachPlatform.TIKTOK: "TikTok",
    OutreachPlatform.WEBSITE: _l("Institution's website"),
    OutreachPlatform.NEWSLETTER: _l("Newsletter"),
    OutreachPlatform.LEAFLET: _l("Leaflet or poster"),
    OutreachPlatform.PUBLIC_MEETING: _l("Public meeting"),
    OutreachPlatform.OTHER: _l("Other"),
}

OUTREACH_KIT_ITEM = {
    OutreachKitItem.POSTER: _l("Poster from the outreach kit"),
    OutreachKitItem.LEAFLET: _l("Leaflet from the outreach kit"),
    OutreachKitItem.SOCIAL_IMAGE: _l("Social-media image from the outreach kit"),
}

OUTREACH_KIND = {
    OutreachKind.POST: _l("Preventive message or post"),
    OutreachKind.ACTIVITY: _l("Awareness activity"),
}

CLOCK = {
    "acknowledgement_7_days": _l("Acknowledgement within 7 days (Law 361/2022)"),
    "feedback_3_months": _l("Feedback within 3 months (Law 361/2022)"),
    "petition_answer_30_45_days": _l("Answer to petitions within 30 days, 45 if extended "
                                     "(OG 27/2002)"),
    "forward_5_days": _l("Forwarded within 5 days (not competent)"),
}

CLOCK_CELL = {
    compliance.MET: _l("Met"),
    compliance.MET_EXTENDED: _l("Met within the extended 45 days"),
    compliance.LATE: _l("Late or missed"),
    compliance.PENDING: _l("Not yet due"),
}

USAGE = {
    "report_submitted": _l("Reports sent through the portal"),
    "follow_up_login": _l("Follow-up sign-ins with a receipt"),
}

_EXTRA = {
    ("regime", stats.UNTRIAGED): _l("Not yet triaged"),
    ("outcome", stats.NOT_CONCLUDED): _l("Not concluded yet"),
    ("anonymity", stats.ANONYMOUS): _l("Anonymous"),
    ("anonymity", stats.IDENTIFIED): _l("With identity"),
    ("origin", stats.WEB): _l("Sent through this portal"),
    ("origin", stats.RECORDED_BY_STAFF): _l("Recorded by staff"),
}

_ENUMS: dict[str, tuple[type[enum.Enum], Mapping[Any, Any]]] = {
    "channel": (Channel, labels.CHANNEL),
    "platform": (Platform, labels.PLATFORM),
    "category": (Category, labels.CATEGORY),
    "regime": (Regime, labels.REGIME),
    "status": (Status, labels.STATUS),
    "outcome": (Outcome, labels.OUTCOME),
    "outreach_platform": (OutreachPlatform, OUTREACH_PLATFORM),
}


def dimension(kind: str, key: str):
    """The label of one cell: dimension("channel", "social_media/facebook") and so on."""
    if (kind, key) in _EXTRA:
        return _EXTRA[kind, key]
    if kind == "channel" and "/" in key:
        _, platform = key.split("/", 1)
        return _l("Social media: %(platform)s", platform=labels.PLATFORM[Platform(platform)])
    if kind == "month":
        year, month = key.split("-")
        return format_date(date(int(year), int(month), 1), "LLLL yyyy")
    if kind == "overdue":
        known = key in {deadline.value for deadline in DeadlineKind}
        return labels.DEADLINE[DeadlineKind(key)] if known else key
    if kind == "clock":
        return CLOCK_CELL.get(key, key)
    if kind == "usage":
        return USAGE.get(key, key)
    enum_class, names = _ENUMS[kind]
    return names[enum_class(key)]


def short_month(key: str) -> str:
    year, month = key.split("-")
    return format_date(date(int(year), int(month), 1), "MMM")

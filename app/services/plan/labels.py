"""Words of the plan workspace that services hand to pages and documents."""
from flask_babel import lazy_gettext as _l

from ...models import Change, IndicatorKind, MeasureStatus

STATUS = {
    MeasureStatus.NOT_STARTED: _l("Not started"),
    MeasureStatus.IN_PROGRESS: _l("In progress"),
    MeasureStatus.IMPLEMENTED: _l("Implemented"),
    MeasureStatus.ONGOING: _l("Permanent, ongoing"),
    MeasureStatus.NOT_IMPLEMENTED: _l("Not implemented"),
}

INDICATOR_KIND = {
    IndicatorKind.COUNT: _l("number"),
    IndicatorKind.YES_NO: _l("yes / no"),
    IndicatorKind.PERCENT: _l("percentage"),
    IndicatorKind.AMOUNT_LEI: _l("amount in lei"),
    IndicatorKind.TEXT: _l("short text"),
}

CHANGE = {
    Change.LOADED: _l("as adopted (loaded)"),
    Change.INTRODUCED: _l("introduced"),
    Change.REVISED: _l("revised"),
    Change.RETIRED: _l("retired"),
}

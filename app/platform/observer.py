"""The observer's page: the integrity-plan indicators of their group of institutions, for a
year or a quarter, and the CSV of it (services/indicators/observer.py holds the rules)."""
from flask import abort, make_response, render_template, request

from ..auth.session import platform_view
from ..models import PlatformRole
from ..opendata.tables import STATE, tables
from ..services.errors import DomainError
from ..services.indicators import group_exports, observer
from ..services.indicators.adoption import adoption, by_state
from ..services.indicators.periods import Period, local_today
from . import bp


def _period() -> Period:
    today = local_today()
    try:
        year = int(request.args.get("year", today.year))
        quarter = int(request.args.get("quarter") or 0)
        return Period.quarter(year, quarter) if quarter else Period.year(year)
    except (ValueError, DomainError):
        abort(404)


def _view(access):
    return observer.view(access.account, _period(), request.args.get("county") or None)


@bp.route("/observer")
@platform_view(PlatformRole.OBSERVER)
def observer_page(access):
    shown = _view(access)
    figures = shown.figures
    today = local_today()
    return render_template(
        "platform/observer.html", view=shown, tables=tables(figures),
        states=by_state(adoption(figures)), state_label=STATE,
        counties=observer.counties_in(shown.scope), county=request.args.get("county", ""),
        years=list(range(today.year, today.year - 6, -1)),
        year=shown.period.first_day.year, quarter=request.args.get("quarter", type=int),
        threshold=max(figures.thresholds or {0}))


@bp.route("/observer.csv")
@platform_view(PlatformRole.OBSERVER)
def observer_csv(access):
    shown = _view(access)
    response = make_response(group_exports.to_csv(shown.figures))
    response.mimetype = "text/csv"
    stem = group_exports.stem(shown.shown, shown.period.code)
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    return response

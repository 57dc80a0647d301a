"""Coordinator views: parse the request, call one service, render. The services check the role
again (app.services.access.guards.require_role); nothing here reads a case."""
from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from ..auth.session import staff_view
from ..extensions import db
from ..form_errors import show_error
from ..models import Channel, Institution, OutreachKind, OutreachKitItem, OutreachPlatform, Role
from ..services.errors import DomainError
from ..services.indicators import compute as stats
from ..services.indicators import exports, outreach
from ..services.indicators.periods import (
    MONTH,
    QUARTER,
    RANGE,
    Period,
    PeriodRefused,
    current_year,
    local_today,
)
from ..services.indicators.suppression import threshold_for
from ..services.transaction import unit_of_work
from . import bp, charts
from .forms import ConfirmForm, OutreachForm, PeriodForm
from .labels import CLOCK, CLOCK_CELL, OUTREACH_KIND, OUTREACH_KIT_ITEM, dimension, short_month


def _institution(access):
    """The signed-in coordinator's own institution."""
    return db.session.get_one(Institution, access.member.institution_id)


def month_choices() -> list[SelectChoice]:
    return [SelectChoice(str(n), format_date(date(2000, n, 1), "LLLL")) for n in range(1, 13)]


def _period_from(form: PeriodForm) -> Period:
    """The chosen period; the current year when nothing was chosen. PeriodRefused names the
    field to correct."""
    kind = form.period.data
    year = form.year.data if form.year.data is not None else local_today().year
    if kind == QUARTER:
        return Period.quarter(year, int(form.quarter.data or 1))
    if kind == MONTH:
        return Period.month(year, int(form.month.data or 1))
    if kind == RANGE:
        if form.start.data is None:
            raise PeriodRefused(_l("Give the first day of the range."), field="start")
        if form.end.data is None:
            raise PeriodRefused(_l("Give the last day of the range."), field="end")
        return Period.between(form.start.data, form.end.data)
    return Period.year(year)


def _read_period() -> tuple[PeriodForm, Period, bool]:
    """(form, period, valid): an invalid choice falls back to the current year, with the
    field marked so the person sees what to change."""
    form = PeriodForm(request.args)
    form.month.choices = month_choices()
    if form.year.data is None and not form.year.errors:
        form.year.data = local_today().year
    if not form.validate():
        return form, current_year(), False
    try:
        return form, _period_from(form), True
    except PeriodRefused as error:
        getattr(form, error.field or "period").errors.append(error.message)
        return form, current_year(), False


def _period_args(period: Period) -> dict:
    """Query arguments that select `period` again (export links)."""
    if period.kind == RANGE:
        return {"period": RANGE, "start": period.first_day.isoformat(),
                "end": period.last_day.isoformat()}
    args = {"period": period.kind, "year": period.first_day.year}
    if period.kind == QUARTER:
        args["quarter"] = (period.first_day.month - 1) // 3 + 1
    if period.kind == MONTH:
        args["month"] = period.first_day.month
    return args


def _channel_rows(indicators: stats.Indicators) -> list[tuple[str, int, bool]]:
    """(label, count, is a platform under social media) in the dashboard's order."""
    rows = []
    for key, value in indicators.by_channel.cells.items():
        rows.append((dimension("channel", key), value, False))
        if key == Channel.SOCIAL_MEDIA.value:
            rows += [(dimension("platform", platform), count, True)
                     for platform, count in indicators.by_platform.cells.items()]
    return rows


def _charts(indicators: stats.Indicators) -> dict:
    channel_items = []
    for key, value in indicators.by_channel.cells.items():
        if key == Channel.SOCIAL_MEDIA.value:
            channel_items += [(dimension("channel", f"{key}/{platform}"), count)
                              for platform, count in indicators.by_platform.cells.items()]
        else:
            channel_items.append((dimension("channel", key), value))
    clock_rows = []
    for clock in indicators.clocks:
        parts = [(CLOCK_CELL[key], value, key.replace("_", "-"))
                 for key, value in clock.cells.items()]
        clock_rows.append((CLOCK[clock.name], parts))
    return {
        "channels": charts.horizontal_bars(
            "chart-channels", _l("Reports received by channel"),
            _l("Horizontal bars, one per channel; social media split by platform. The same "
               "numbers are in the table beside the chart."), channel_items),
        "months": charts.columns(
            "chart-months", _l("Reports received month by month"),
            _l("Columns, one per month of the period. The same numbers are in the table "
               "beside the chart."),
            [(short_month(key), value) for key, value in indicators.by_month.cells.items()]),
        "deadlines": charts.stacked(
            "chart-deadlines", _l("Legal deadlines that fell in the period"),
            _l("One bar per legal deadline, split into met, met within the extension, late "
               "and not yet due. The same numbers are in the table beside the chart."),
            clock_rows, [(key.replace("_", "-"), label) for key, label in CLOCK_CELL.items()]),
        "posts": charts.horizontal_bars(
            "chart-posts", _l("Preventive posts by platform"),
            _l("Horizontal bars, one per platform. The same numbers are in the table beside "
               "the chart."),
            [(dimension("outreach_platform", key), value)
             for key, value in indicators.outreach.posts.cells.items()]),
    }


@bp.route("/stats")
@staff_view(Role.COORDINATOR)
def dashboard(access):
    form, period, valid = _read_period()
    with unit_of_work():  # also keeps the staff session's last-seen time
        indicators = stats.dashboard(access.member, period)
    return render_template("stats/dashboard.html", form=form, valid=valid, period=period,
                           ind=indicators, charts=_charts(indicators),
                           channel_rows=_channel_rows(indicators), dimension=dimension,
                           clock_label=CLOCK, clock_cell=CLOCK_CELL,
                           threshold=threshold_for(_institution(access)),
                           provisional=not period.is_complete(indicators.generated_at),
                           period_args=_period_args(period)), 200 if valid else 400


@bp.route("/stats/export/<any(csv, json, metadata):kind>")
@staff_view(Role.COORDINATOR)
def export(access, kind: str):
    form, period, valid = _read_period()
    if not valid:
        abort(400)
    try:
        with unit_of_work():
            made = exports.export(_institution(access), period, kind, actor=access.member)
    except exports.PeriodNotPublished as error:
        flash(error.message)
        return redirect(url_for(".dashboard", **_period_args(period)))
    response = Response(made.body.encode(), mimetype=made.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    return response


@bp.route("/stats/annual")
@staff_view(Role.COORDINATOR)
def annual_latest(access):
    return redirect(url_for(".annual", year=local_today().year - 1))


@bp.route("/stats/annual/<int:year>")
@staff_view(Role.COORDINATOR)
def annual(access, year: int):
    try:
        period, previous = Period.year(year), Period.year(year - 1)
    except PeriodRefused:
        abort(404)
    member = access.member
    with unit_of_work():
        this, before = stats.dashboard(member, period), stats.dashboard(member, previous)
    return render_template("stats/annual.html", year=year, ind=this, prev=before,
                           institution=_institution(access), charts=_charts(this),
                           channel_rows=_channel_rows(this), dimension=dimension,
                           clock_label=CLOCK, clock_cell=CLOCK_CELL,
                           complete=period.is_complete())


KIT_VALUES = {item.value for item in OutreachKitItem}


# --- the outreach log ----------------------------------------------------------------------------

def _entry(form: OutreachForm) -> outreach.OutreachEntry:
    return outreach.OutreachEntry(
        kind=OutreachKind(form.kind.data), platform=OutreachPlatform(form.platform.data),
        published_on=form.published_on.data, title=form.title.data or "",
        link=form.link.data or None, audience=form.audience.data,
        participants=form.participants.data, feedback=form.feedback.data,
        kit_item=OutreachKitItem(form.kit_item.data) if form.kit_item.data in KIT_VALUES else None)


@bp.route("/outreach")
@staff_view(Role.COORDINATOR)
def outreach_list(access):
    year = request.args.get("year", type=int) or local_today().year
    if not 2000 <= year <= 9998:
        year = local_today().year
    with unit_of_work():  # rendered inside: the rows stay loaded until the page is written
        return render_template("stats/outreach_list.html", year=year,
                               items=outreach.items_for_year(access.member, year),
                               years=range(local_today().year, 1999, -1), dimension=dimension,
                               kind_label=OUTREACH_KIND.get, kit_label=OUTREACH_KIT_ITEM.get)


def _save_outreach(access, form: OutreachForm, item_id: int | None):
    """Validate and save; on success redirect to the list of the entry's year."""
    if not form.validate_on_submit():
        return None
    try:
        with unit_of_work():
            if item_id is None:
                item = outreach.create(access.member, _entry(form))
            else:
                item = outreach.update(access.member, item_id, _entry(form))
            year = item.published_on.year
    except outreach.OutreachNotFound:
        abort(404)
    except DomainError as error:
        show_error(form, error)
        return None
    flash(_l("The entry is saved.") if item_id is None else _l("The changes are saved."))
    return redirect(url_for(".outreach_list", year=year))


@bp.route("/outreach/new", methods=["GET", "POST"])
@staff_view(Role.COORDINATOR)
def outreach_new(access):
    form = OutreachForm()
    if request.method == "GET":
        form.published_on.data = local_today()
    done = _save_outreach(access, form, None)
    if done is not None:
        return done
    status = 400 if form.is_submitted() else 200
    return render_template("stats/outreach_form.html", form=form, item=None), status


@bp.route("/outreach/<int:item_id>/edit", methods=["GET", "POST"])
@staff_view(Role.COORDINATOR)
def outreach_edit(access, item_id: int):
    try:
        item = outreach.get(access.member, item_id)
    except outreach.OutreachNotFound:
        abort(404)
    form = OutreachForm(obj=item) if request.method == "GET" else OutreachForm()
    if request.method == "GET":
        form.kind.data, form.platform.data = item.kind.value, item.platform.value
        form.kit_item.data = item.kit_item.value if item.kit_item else ""
    done = _save_outreach(access, form, item_id)
    if done is not None:
        return done
    status = 400 if form.is_submitted() else 200
    return render_template("stats/outreach_form.html", form=form, item=item), status


@bp.route("/outreach/<int:item_id>/delete", methods=["GET", "POST"])
@staff_view(Role.COORDINATOR)
def outreach_delete(access, item_id: int):
    """GET asks for confirmation; the POST (with its CSRF token) deletes."""
    try:
        item = outreach.get(access.member, item_id)
    except outreach.OutreachNotFound:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        year = item.published_on.year
        with unit_of_work():
            outreach.delete(access.member, item_id)
        flash(_l("The entry is deleted."))
        return redirect(url_for(".outreach_list", year=year))
    status = 400 if form.is_submitted() else 200
    return render_template("stats/outreach_delete.html", form=form, item=item,
                           dimension=dimension), status

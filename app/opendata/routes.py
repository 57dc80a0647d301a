"""The group pages: a county's or the whole country's published figures for a completed year,
who has not reported (measure 2.2), and the open-data files. Anyone may read them."""
from flask import abort, make_response, render_template, request

from ..services.indicators import group_exports
from ..services.indicators.adoption import adoption, by_state
from ..services.indicators.group import COUNTY, EVERYONE, counties
from ..services.indicators.group_transparency import find_group, public_years, published
from . import bp
from .tables import STATE, tables


def _year() -> int:
    years = public_years()
    try:
        year = int(request.args.get("year", years[0]))
    except ValueError:
        abort(404)
    if year not in years:
        abort(404)
    return year


def _group(kind: str, county: str | None):
    group = find_group(kind, county)
    if group is None:
        abort(404)
    return group


@bp.route("/")
def index():
    return render_template("opendata/index.html", counties=counties())


def _page(kind: str, county: str | None = None):
    group, year = _group(kind, county), _year()
    figures = published(group, year)
    entries = adoption(figures)
    return render_template("opendata/group.html", group=group, year=year, years=public_years(),
                           figures=figures, tables=tables(figures), states=by_state(entries),
                           state_label=STATE, county=county,
                           threshold=max(figures.thresholds or {0}))


@bp.route("/all")
def everyone():
    return _page(EVERYONE)


@bp.route("/county/<county>")
def county(county: str):
    return _page(COUNTY, county)


def _file(kind: str, county: str | None, year: int, form: str):
    group = _group(kind, county)
    if year not in public_years():
        abort(404)
    figures = published(group, year)
    stem = group_exports.stem(group, figures.period.code)
    if form == "csv":
        body, mimetype, filename = group_exports.to_csv(figures), "text/csv", f"{stem}.csv"
    else:
        body = group_exports.metadata_json(figures, figures.generated_at)
        mimetype, filename = "application/json", f"{stem}-metadata.json"
    response = make_response(body)
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/all/<int:year>.csv", defaults={"form": "csv"})
@bp.route("/all/<int:year>-metadata.json", defaults={"form": "metadata"})
def everyone_data(year: int, form: str):
    return _file(EVERYONE, None, year, form)


@bp.route("/county/<county>/<int:year>.csv", defaults={"form": "csv"})
@bp.route("/county/<county>/<int:year>-metadata.json", defaults={"form": "metadata"})
def county_data(county: str, year: int, form: str):
    return _file(COUNTY, county, year, form)

"""Indicators for a group of institutions (a county, an association, all): the same figures as
each institution's own dashboard, counted per institution in one pass; what the group
publishes (group_public.py), its open-data CSV, who has not reported, the public pages and
the command line. Real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL)."""
import csv
import io
import json
import random
import re
import secrets
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import (
    Case,
    CaseEvent,
    Category,
    Channel,
    EventKind,
    IndicatorSnapshot,
    Outcome,
    OutreachItem,
    OutreachKind,
    OutreachPlatform,
    Platform,
    Regime,
    Status,
)
from app.services.casework import deadlines
from app.services.indicators import group_exports
from app.services.indicators.adoption import (
    ACTIVE,
    CHANNEL_UNUSED,
    NO_PREVENTION,
    NOT_REPORTING,
    adoption,
)
from app.services.indicators.compute import compute
from app.services.indicators.exports import CSV_COLUMNS, _items, public_view
from app.services.indicators.group import (
    all_institutions,
    counties,
    county_group,
    group_indicators,
    list_group,
)
from app.services.indicators.group_public import public_group
from app.services.indicators.periods import Period, local_today
from app.services.operations.institutions import create_institution

LAST_YEAR = local_today().year - 1


def make_institution(name, county, siruta, cui):
    institution, _ = create_institution(name)
    institution.county, institution.siruta_code, institution.cui = county, siruta, cui
    db.session.commit()
    return institution


def add_case(institution, received_at, rng, n):
    """One case's metadata as the workflow leaves it (content: random bytes, never read)."""
    regime = rng.choice([None, Regime.WHISTLEBLOWER, Regime.PETITION, Regime.FORWARDED])
    channel = rng.choice(list(Channel))
    closed = regime is not None and rng.random() < .6
    case = Case(
        uuid=secrets.token_hex(16), institution_id=institution.id,
        reference=f"SES-{received_at.year}-{n:06d}", channel=channel,
        platform=rng.choice(list(Platform)) if channel is Channel.SOCIAL_MEDIA else None,
        category=rng.choice(list(Category)), work_context=False, regime=regime,
        status=Status.CLOSED if closed else rng.choice([Status.RECEIVED, Status.ACKNOWLEDGED]),
        outcome=(Outcome.FORWARDED if regime is Regime.FORWARDED
                 else rng.choice(list(Outcome)[:4])) if closed else None,
        anonymous=rng.random() < .5, language="ro", received_at=received_at,
        acknowledged_at=received_at + timedelta(days=rng.randrange(1, 10))
        if rng.random() < .7 else None,
        closed_at=received_at + timedelta(days=rng.randrange(5, 60)) if closed else None,
        forwarded_at=received_at + timedelta(days=rng.randrange(1, 8))
        if closed and regime is Regime.FORWARDED else None,
        content=secrets.token_bytes(24))
    if case.status is Status.ACKNOWLEDGED and case.acknowledged_at is None:
        case.acknowledged_at = received_at + timedelta(days=2)
    case.acknowledge_due_at = deadlines.acknowledge_due(received_at)
    deadlines.refresh(case)
    db.session.add(case)
    db.session.flush()
    if closed:
        db.session.add(CaseEvent(case_id=case.id, institution_id=institution.id,
                                 kind=EventKind.FORWARDED if regime is Regime.FORWARDED
                                 else EventKind.CLOSED, at=case.closed_at))
    return case


def add_post(institution, day, platform=OutreachPlatform.FACEBOOK, kind=OutreachKind.POST):
    db.session.add(OutreachItem(institution_id=institution.id, kind=kind, platform=platform,
                                published_on=day, title="Mesaj preventiv",
                                participants=12 if kind is OutreachKind.ACTIVITY else None))


@pytest.fixture
def county_of_four(app):
    """Buzău: a town with many reports, two communes with few, one with nothing; and a
    commune of another county, which no Buzău figure may include."""
    rng = random.Random(5)
    town = make_institution("Municipiul Buzău", "Buzău", "44818", "4280736")
    small = make_institution("Comuna Bălțați", "Buzău", "95391", "4540380")
    tiny = make_institution("Comuna Mărăcineni", "Buzău", "46104", "4280540")
    silent = make_institution("Comuna Tăcută", "Buzău", "46999", "4280999")
    other = make_institution("Comuna Ciurea", "Iași", "95560", "4540550")
    start = datetime(LAST_YEAR, 1, 1, 8, tzinfo=UTC)
    n = 0
    for institution, count in ((town, 60), (small, 7), (tiny, 2), (other, 9)):
        for _ in range(count):
            n += 1
            add_case(institution, start + timedelta(hours=rng.randrange(0, 24 * 360)), rng, n)
    for _ in range(3):  # the year before: outside the period
        n += 1
        add_case(small, datetime(LAST_YEAR - 1, 6, 1, tzinfo=UTC), rng, n)
    add_post(town, date(LAST_YEAR, 3, 2))
    add_post(town, date(LAST_YEAR, 4, 2), OutreachPlatform.WEBSITE)
    add_post(small, date(LAST_YEAR, 5, 5))
    add_post(silent, date(LAST_YEAR - 1, 5, 5))  # not in the period
    add_post(tiny, date(LAST_YEAR, 9, 9), kind=OutreachKind.ACTIVITY)
    db.session.commit()
    return {"town": town, "small": small, "tiny": tiny, "silent": silent, "other": other}


def test_each_row_is_the_institution_dashboard_and_totals_are_their_sums(county_of_four):
    period, now = Period.year(LAST_YEAR), datetime.now(UTC)
    group = county_group("Buzău")
    assert [member.name for member in group.members] == [
        "Comuna Bălțați", "Comuna Mărăcineni", "Comuna Tăcută", "Municipiul Buzău"]
    figures = group_indicators(group, period, now)
    for member in group.members:
        assert figures.rows[member.id] == compute(member.id, period, now)
    assert figures.totals.received == 60 + 7 + 2
    assert figures.rows[county_of_four["silent"].id].received == 0
    for name in ("by_channel", "by_category", "by_outcome", "by_month", "overdue_now"):
        total = getattr(figures.totals, name).cells
        for key in total:
            assert total[key] == sum(getattr(row, name).cells[key]
                                     for row in figures.rows.values())
    assert figures.totals.acknowledgement.due == sum(
        row.acknowledgement.due for row in figures.rows.values())
    assert figures.totals.outreach.posts.total == 3
    assert figures.totals.outreach.activities == 1


def test_groups_are_a_county_a_list_or_everyone(county_of_four):
    assert counties() == [("Buzău", 4), ("Iași", 1)]
    association = list_group([county_of_four["small"].id, county_of_four["other"].id, 999999],
                             "ADI Valea Buzăului")
    assert [member.name for member in association.members] == ["Comuna Bălțați",
                                                                 "Comuna Ciurea"]
    figures = group_indicators(association, Period.year(LAST_YEAR))
    assert figures.totals.received == 7 + 9
    everyone = group_indicators(all_institutions(), Period.year(LAST_YEAR))
    assert len(everyone.rows) == 5 and everyone.totals.received == 60 + 7 + 2 + 9
    assert group_indicators(list_group([], "none"), Period.year(LAST_YEAR)).totals.received == 0


def test_one_statement_per_figure_for_the_whole_group(app, county_of_four):
    """Not one query per institution: the group costs the same statements for 1 or 5."""
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind()
    everyone, one = all_institutions(), list_group([county_of_four["small"].id], "one")
    event.listen(engine, "before_cursor_execute", count)
    try:
        group_indicators(everyone, Period.year(LAST_YEAR))
        for_everyone = len(statements)
        statements.clear()
        group_indicators(one, Period.year(LAST_YEAR))
        for_one = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert for_everyone == for_one
    assert for_everyone <= 13  # snapshots, received, 4 clocks (+ durations), overdue, …
    assert not any(re.search(r"\b(content|identity|notify)\b", statement)
                   for statement in statements)


def test_group_figures_are_sums_of_what_each_institution_publishes(county_of_four):
    published = public_group(group_indicators(county_group("Buzău"), Period.year(LAST_YEAR)))
    threshold = 3
    for member in published.group.members:  # each row is its own transparency page's
        assert _items(published.views[member.id]) == _items(public_view(
            compute(member.id, Period.year(LAST_YEAR), published.generated_at), threshold))
    total = published.total("reports_received", "total")
    # 60 and 7 published, 2 hidden ("<3"), 0 published: 67 to 69, one institution hidden
    assert (total.low, total.high, total.hidden) == (67, 69, 1)
    assert total.text == "67–69"
    assert published.total("preventive_posts", "total").text == "3"


def test_who_implemented_measure_2_2(county_of_four):
    published = public_group(group_indicators(county_group("Buzău"), Period.year(LAST_YEAR)))
    states = {entry.member.name: entry.state for entry in adoption(published)}
    assert states == {"Municipiul Buzău": ACTIVE, "Comuna Bălțați": ACTIVE,
                      "Comuna Mărăcineni": ACTIVE, "Comuna Tăcută": NOT_REPORTING}
    county_of_four["silent"].suspended_at = datetime.now(UTC)
    add_post(county_of_four["silent"], date(LAST_YEAR, 2, 2))
    db.session.commit()
    published = public_group(group_indicators(county_group("Buzău"), Period.year(LAST_YEAR)))
    entry = next(e for e in adoption(published) if e.member.name == "Comuna Tăcută")
    assert entry.state == CHANNEL_UNUSED and entry.member.suspended
    only_reports = public_group(group_indicators(list_group([county_of_four["other"].id], "x"),
                                                 Period.year(LAST_YEAR)))
    assert adoption(only_reports)[0].state == NO_PREVENTION


def test_group_csv_has_one_row_per_institution_and_indicator(county_of_four):
    published = public_group(group_indicators(county_group("Buzău"), Period.year(LAST_YEAR)))
    rows = list(csv.DictReader(io.StringIO(group_exports.to_csv(published))))
    assert list(rows[0]) == ["siruta_code", "cui", "name", "county", *CSV_COLUMNS[2:]]
    per_institution = len(_items(next(iter(published.views.values()))))
    assert len(rows) == 4 * per_institution
    baltati = [row for row in rows if row["siruta_code"] == "95391"]
    assert {row["cui"] for row in baltati} == {"4540380"}
    assert {row["county"] for row in rows} == {"Buzău"}
    assert next(row for row in baltati if row["indicator"] == "reports_received")["value"] == "7"
    tiny = next(row for row in rows if row["siruta_code"] == "46104"
                and row["indicator"] == "reports_received")
    assert (tiny["value"], tiny["flag"]) == ("", "suppressed")
    assert all(row["period"] == str(LAST_YEAR) and row["period_status"] == "final"
               for row in rows)
    meta = group_exports.metadata(published, published.generated_at)
    assert meta["group"] == {"kind": "county", "label": "Buzău", "institutions": 4}
    received = next(t for t in meta["totals"] if t["indicator"] == "reports_received")
    assert (received["low"], received["high"], received["hidden_institutions"]) == (67, 69, 1)
    silent = next(i for i in meta["measure_2_2"]["institutions"] if i["siruta_code"] == "46999")
    assert silent["state"] == NOT_REPORTING


def test_public_county_page_without_javascript(client, county_of_four):
    page = client.get("/open-data/")
    assert page.status_code == 200 and "Buzău" in page.text
    page = client.get("/open-data/county/Buzău")
    assert page.status_code == 200
    assert "<script" not in page.text
    assert "67–69" in page.text and "Comuna Tăcută" in page.text
    assert "Comuna Ciurea" not in page.text
    link = re.search(r'href="([^"]+\.csv)"', page.text).group(1)
    data = client.get(link)
    assert data.status_code == 200 and data.mimetype == "text/csv"
    assert data.text.splitlines()[0] == ",".join(group_exports.GROUP_CSV_COLUMNS)
    meta = client.get(re.search(r'href="([^"]+-metadata\.json)"', page.text).group(1))
    assert json.loads(meta.text)["group"]["institutions"] == 4
    country = client.get("/open-data/all")
    assert country.status_code == 200 and "Comuna Ciurea" in country.text
    assert client.get("/open-data/county/Atlantida").status_code == 404
    assert client.get(f"/open-data/county/Buzău?year={LAST_YEAR + 1}").status_code == 404
    assert client.get(f"/open-data/all/{LAST_YEAR}.csv").status_code == 200


def test_cli_exports_a_county(app, county_of_four, tmp_path):
    out, meta = tmp_path / "buzau.csv", tmp_path / "buzau.json"
    result = app.test_cli_runner().invoke(args=[
        "opendata", "export", "--county", "Buzău", "--year", str(LAST_YEAR), "--out", str(out),
        "--metadata", str(meta)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {row["name"] for row in rows} == {"Municipiul Buzău", "Comuna Bălțați",
                                             "Comuna Mărăcineni", "Comuna Tăcută"}
    assert json.loads(meta.read_text())["period"] == str(LAST_YEAR)
    refused = app.test_cli_runner().invoke(args=["opendata", "export", "--year", "2024"])
    assert refused.exit_code != 0 and "--county" in refused.output


def test_completed_years_read_the_nightly_snapshots(app, county_of_four):
    """`opendata refresh` keeps each institution's exact figures of a completed year; the
    group reads them back unchanged, computes the others live, and says how old they are."""
    period, now = Period.year(LAST_YEAR), datetime.now(UTC)
    live = group_indicators(all_institutions(), period, now)
    result = app.test_cli_runner().invoke(args=["opendata", "refresh", "--year",
                                                str(LAST_YEAR)])
    assert result.exit_code == 0, result.output
    assert db.session.query(IndicatorSnapshot).count() == 5
    kept = group_indicators(all_institutions(), period)
    for institution_id, row in live.rows.items():
        stored = kept.rows[institution_id]
        assert replace(stored, generated_at=now) == replace(row, generated_at=now)
    assert kept.generated_at < datetime.now(UTC)
    # a new case of that year is seen only after the next refresh (nightly)
    add_case(county_of_four["silent"], datetime(LAST_YEAR, 6, 1, tzinfo=UTC),
             random.Random(1), 999)
    db.session.commit()
    assert group_indicators(county_group("Buzău"), period).rows[
        county_of_four["silent"].id].received == 0
    assert group_indicators(county_group("Buzău"), period, use_snapshots=False).rows[
        county_of_four["silent"].id].received == 1
    app.config["GROUP_SNAPSHOT_MAX_AGE_HOURS"] = 0  # too old: computed live again
    assert group_indicators(county_group("Buzău"), period).rows[
        county_of_four["silent"].id].received == 1
    this_year = Period.year(local_today().year)
    assert app.test_cli_runner().invoke(args=["opendata", "refresh", "--year",
                                              str(this_year.first_day.year)]).exit_code == 0
    assert db.session.query(IndicatorSnapshot).filter_by(
        period_code=this_year.code).count() == 0  # the current year is always live

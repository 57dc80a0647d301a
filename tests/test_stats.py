"""Indicator arithmetic on a known data set built through the real services.

Every figure is asserted exactly. The data set crosses the year and month boundaries in
Bucharest time (31 December 23:30 local is 21:30 UTC and belongs to December; 00:30 on
1 January is 22:30 UTC the day before and belongs to January), lists channels with no
report, and holds a reopened case, a forwarded case and an extended petition.
"""
import re
from collections import OrderedDict
from datetime import date

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import (
    AuditEntry,
    Category,
    Channel,
    Outcome,
    OutreachKind,
    OutreachPlatform,
    Platform,
    Regime,
    Role,
)
from app.services.errors import NotAuthorised
from app.services.indicators import compute as stats
from app.services.indicators import outreach
from app.services.indicators.outreach import OutreachEntry
from app.services.indicators.periods import Period
from app.services.transaction import unit_of_work
from tests.support.desk import Desk, utc

NOW = utc(2026, 1, 20, 12, 0)  # "now" for the pending / late / overdue figures


def cells(**values) -> OrderedDict:
    return OrderedDict(values)


@pytest.fixture
def coordinator(make_handler):
    return make_handler("Carmen Coordonatoare", roles=(Role.COORDINATOR,))


@pytest.fixture
def desk(institution, make_handler, kdf_params):
    return Desk(institution, make_handler("Ana Popescu"), kdf_params)


@pytest.fixture
def known(desk, submit, coordinator):
    """Twelve reports (nine received in 2025 in Bucharest time) and a year of outreach."""
    d = desk
    # c1 through the real web form: whistleblower, acknowledged after 2 days, closed after 30.
    response, _ = submit(category="bribery", work_context="yes")
    assert response.status_code == 200
    from app.models import Case
    c1 = db.session.scalar(select(Case).order_by(Case.id.desc()))
    d.triage(c1, Regime.WHISTLEBLOWER)
    d.age(c1, days=2)
    d.acknowledge(c1)
    d.age(c1, days=28)
    d.close(c1, Outcome.SUBSTANTIATED)
    d.place(c1, utc(2025, 3, 10, 9))

    # c2 by e-mail, identified: acknowledged after 10 days (late), feedback after 110 (late).
    c2 = d.receive(Channel.EMAIL, category=Category.CONFLICT_OF_INTEREST, anonymous=False)
    d.triage(c2, Regime.WHISTLEBLOWER)
    d.age(c2, days=10)
    d.acknowledge(c2)
    d.age(c2, days=100)
    d.message(c2)
    d.place(c2, utc(2025, 5, 20, 10))

    # c3 by phone at 23:30 on 31 December 2025 in Bălțați: December, untriaged.
    c3 = d.receive(Channel.PHONE, category=Category.ABUSE_OF_OFFICE,
                   at=utc(2025, 12, 31, 21, 30))
    # c4 on Facebook at 00:30 on 1 January 2026 in Bălțați: January 2026, untriaged.
    d.receive(Channel.SOCIAL_MEDIA, platform=Platform.FACEBOOK, at=utc(2025, 12, 31, 22, 30))

    # c5 on Instagram: petition answered (dismissed) after 20 days, then reopened.
    c5 = d.receive(Channel.SOCIAL_MEDIA, platform=Platform.INSTAGRAM,
                   category=Category.PUBLIC_PROCUREMENT)
    d.triage(c5, Regime.PETITION)
    d.age(c5, days=20)
    d.close(c5, Outcome.DISMISSED)
    d.age(c5, days=5)
    d.reopen(c5)
    d.place(c5, utc(2025, 7, 1, 8))

    # c6 by post, identified: forwarded to another authority after 3 days.
    c6 = d.receive(Channel.POST, category=Category.MISUSE_OF_FUNDS, anonymous=False)
    d.age(c6, days=3)
    d.forward(c6)
    d.place(c6, utc(2025, 9, 15, 12))

    # c7 on the web, identified, never acknowledged: the acknowledgement is late.
    d.receive(Channel.WEB, category=Category.BRIBERY, anonymous=False,
              at=utc(2025, 11, 28, 10))
    # c8 in the report box on 30 December: its acknowledgement falls due in January 2026.
    d.receive(Channel.BOX, at=utc(2025, 12, 30, 10))
    # c9 on the web at 23:59 on 31 December 2024 (Bălțați): a 2024 report whose deadlines fall
    # due in 2025 and were both missed.
    c9 = d.receive(Channel.WEB)
    d.triage(c9, Regime.WHISTLEBLOWER)
    d.place(c9, utc(2024, 12, 31, 21, 59))
    # c10 on the web on 18 January 2026: acknowledgement not yet due on NOW.
    d.receive(Channel.WEB, at=utc(2026, 1, 18, 10))

    # c11 by e-mail, identified: petition extended after 5 days, answered on day 40.
    c11 = d.receive(Channel.EMAIL, category=Category.FAVOURITISM_IN_HIRING, anonymous=False)
    d.triage(c11, Regime.PETITION)
    d.age(c11, days=5)
    d.extend(c11)
    d.age(c11, days=35)
    d.close(c11, Outcome.UNSUBSTANTIATED)
    d.place(c11, utc(2025, 10, 1, 10))

    # c12 on the web: a petition never answered.
    c12 = d.receive(Channel.WEB, category=Category.INCOMPATIBILITY)
    d.triage(c12, Regime.PETITION)
    d.place(c12, utc(2025, 8, 1, 10))
    assert c3.id  # kept for readability

    for kind, platform, day, audience, participants in (
            (OutreachKind.POST, OutreachPlatform.FACEBOOK, date(2025, 2, 1), 100, None),
            (OutreachKind.POST, OutreachPlatform.FACEBOOK, date(2025, 6, 1), None, None),
            (OutreachKind.POST, OutreachPlatform.WEBSITE, date(2025, 12, 31), 50, None),
            (OutreachKind.POST, OutreachPlatform.INSTAGRAM, date(2024, 12, 31), 70, None),
            (OutreachKind.ACTIVITY, OutreachPlatform.PUBLIC_MEETING, date(2025, 4, 10), None,
             25),
            (OutreachKind.ACTIVITY, OutreachPlatform.OTHER, date(2025, 10, 10), None, 15)):
        with unit_of_work():
            outreach.create(coordinator, OutreachEntry(kind, platform, day, f"Titlu {day}",
                                                       None, audience, participants))
    return coordinator


def test_the_year_2025_figure_by_figure(known):
    ind = stats.dashboard(known, Period.year(2025), now=NOW)
    assert ind.received == 9
    assert ind.by_channel.cells == cells(web=3, email=2, phone=1, in_person=0, post=1,
                                         social_media=1, box=1, other=0)
    assert ind.by_platform.cells == cells(facebook=0, instagram=1, x=0, youtube=0, tiktok=0,
                                          other=0)
    assert ind.channels_used == 6  # web, e-mail, phone, post, box and Instagram
    assert ind.by_category.cells == cells(
        bribery=2, conflict_of_interest=1, abuse_of_office=1, public_procurement=1,
        misuse_of_funds=1, favouritism_in_hiring=1, incompatibility=1, other=1)
    assert ind.by_regime.cells == cells(whistleblower=2, petition=3, forwarded=1, untriaged=3)
    # The reopened petition counts once, with its current status and no outcome.
    assert ind.by_status.cells == cells(received=4, acknowledged=1, assessment=1,
                                        investigation=0, closed=3)
    assert ind.by_outcome.cells == cells(substantiated=1, partially_substantiated=0,
                                         unsubstantiated=1, dismissed=0, forwarded=1,
                                         not_concluded=6)
    assert ind.by_anonymity.cells == cells(anonymous=5, identified=4)
    assert ind.by_origin.cells == cells(web=3, recorded_by_staff=6)
    assert ind.by_month.cells == cells(**{
        "2025-01": 0, "2025-02": 0, "2025-03": 1, "2025-04": 0, "2025-05": 1, "2025-06": 0,
        "2025-07": 1, "2025-08": 1, "2025-09": 1, "2025-10": 1, "2025-11": 1, "2025-12": 2})


def test_deadline_compliance_2025(known):
    ind = stats.dashboard(known, Period.year(2025), now=NOW)
    # Due in 2025: c1 (met, 2 days), c6 (forwarded after 3 days: the reporter was told, met;
    # a forwarded report stays in the figure), c2 (late, 10 days), c7 and c9 (never
    # acknowledged). c9 was received in 2024; c8's acknowledgement falls due in 2026;
    # petitions have no acknowledgement clock.
    ack = ind.acknowledgement
    assert ack.cells == cells(met=2, late=3, pending=0)
    assert (ack.due, ack.share_met, ack.measured) == (5, 40.0, 3)
    assert 2.9 <= ack.median_days <= 3.1  # 2, about 3 (c6's forwarding day), 10
    # c1 answered by closing on day 30 (met); c6 by its forwarding on day 3 (met); c2 by a
    # message on day 110 (late); c9 never.
    feedback = ind.feedback
    assert feedback.cells == cells(met=2, late=2, pending=0)
    assert (feedback.share_met, feedback.median_days, feedback.measured) == (50.0, 30.0, 3)
    # c6 forwarded on its third day: within the 5 days.
    forwarding = ind.forwarding
    assert forwarding.cells == cells(met=1, late=0, pending=0)
    assert (forwarding.due, forwarding.share_met, forwarding.measured) == (1, 100.0, 1)
    # c5 answered on day 20 (then reopened), c11 extended and answered on day 40, c12 never.
    answer = ind.answer
    assert answer.cells == cells(met=1, met_extended=1, late=1, pending=0)
    assert (answer.share_met, answer.median_days, answer.measured) == (66.7, 30.0, 2)


def test_overdue_now_is_a_snapshot_of_the_whole_institution(known):
    ind = stats.dashboard(known, Period.month(2025, 3), now=NOW)
    # Acknowledgement: c3, c4, c7, c8, c9; answer: c12 and the reopened c5. c2 had its
    # feedback, late, on day 110: no deadline of it is open any more, so it is not overdue
    # (it used to read "feedback overdue" for ever).
    assert ind.overdue_now.cells == cells(acknowledge=5, feedback=0, answer=2, forward=0)


def test_month_and_year_boundaries_in_bucharest_time(known):
    december = stats.dashboard(known, Period.month(2025, 12), now=NOW)
    assert december.received == 2  # c3 at 23:30 local on the 31st, c8
    assert december.by_channel.cells["phone"] == 1 and december.by_channel.cells["box"] == 1
    january = stats.dashboard(known, Period.month(2026, 1), now=NOW)
    assert january.received == 2  # c4 at 00:30 local on the 1st, c10
    assert january.by_platform.cells["facebook"] == 1 and january.by_channel.cells["web"] == 1
    # Acknowledgements due in January 2026: c3, c4, c8 missed; c10 not yet due on NOW.
    assert january.acknowledgement.cells == cells(met=0, late=3, pending=1)
    assert january.acknowledgement.share_met == 0.0
    assert january.acknowledgement.median_days is None
    assert january.answer.cells == cells(met=0, met_extended=0, late=0, pending=0)
    assert january.answer.share_met is None
    assert stats.dashboard(known, Period.year(2024), now=NOW).received == 1  # c9
    q4 = stats.dashboard(known, Period.quarter(2025, 4), now=NOW)
    assert q4.received == 4 and list(q4.by_month.cells) == ["2025-10", "2025-11", "2025-12"]
    span = stats.dashboard(known, Period.between(date(2025, 12, 31), date(2026, 1, 1)), now=NOW)
    assert span.received == 2 and span.by_month.cells == cells(**{"2025-12": 1, "2026-01": 1})


def test_outreach_and_portal_use(known):
    ind = stats.dashboard(known, Period.year(2025), now=NOW)
    assert ind.outreach.posts.cells == cells(facebook=2, instagram=0, x=0, youtube=0, tiktok=0,
                                             website=1, newsletter=0, leaflet=0,
                                             public_meeting=0, other=0)
    assert ind.outreach.posts.total == 3
    assert (ind.outreach.post_audience, ind.outreach.activities,
            ind.outreach.participants) == (150, 2, 40)
    assert ind.outreach.activities_by_platform.cells["public_meeting"] == 1
    # "Reports sent through the portal" has one definition: reports received in the period
    # that no staff member recorded, the same figure as the "web" origin.
    assert ind.usage.cells == cells(report_submitted=ind.by_origin.cells["web"],
                                    follow_up_login=0)
    assert ind.usage.cells["report_submitted"] == 3


def test_an_empty_period_lists_every_value_with_zero(known):
    ind = stats.dashboard(known, Period.year(2020), now=NOW)
    assert ind.received == 0 and ind.channels_used == 0
    assert list(ind.by_channel.cells) == [channel.value for channel in Channel]
    assert set(ind.by_channel.cells.values()) == {0}
    assert ind.acknowledgement.share_met is None and ind.feedback.median_days is None


def test_only_the_coordinator_gets_figures_and_no_content_column_is_read(known, desk):
    with pytest.raises(NotAuthorised):
        stats.dashboard(desk.handler, Period.year(2025))
    statements = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", watch)
    try:
        stats.dashboard(known, Period.year(2025), now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    sql = "\n".join(statements).lower()
    assert "count(" in sql and "group by" in sql
    for column in ("content", "identity", "notify", "body", "wrapped", "sealed"):
        assert not re.search(rf"\b{column}\b", sql), column


def test_the_dashboard_page_shows_the_figures(known, sign_in):
    page = sign_in(known).get("/staff/stats?period=year&year=2025")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'<dt>Reports received</dt><dd>9</dd>', html)
    assert re.search(r'<th scope="row">E-mail</th><td class="num">2</td>', html)
    assert re.search(r'<th scope="row">In person</th><td class="num">0</td>', html)
    assert html.count('role="img"') >= 4 and "<title id=\"chart-channels-title\">" in html
    assert 'style="' not in html  # the CSP allows no inline style
    # A bad period is refused with a message, and the current year is shown instead.
    bad = sign_in(known).get("/staff/stats?period=range&start=2025-05-01&end=2025-04-01")
    assert bad.status_code == 400
    assert "The end date must not be before the start date." in bad.get_data(as_text=True)


def test_exports_are_audited(known, sign_in, app):
    from app.models import Institution
    place = db.session.get(Institution, known.institution_id)
    place.siruta_code, place.cui = "40198", "4540623"
    db.session.commit()
    staff = sign_in(known)
    before = db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "stats_export"))
    csv_file = staff.get("/staff/stats/export/csv?period=year&year=2025")
    assert csv_file.status_code == 200 and csv_file.mimetype == "text/csv"
    assert csv_file.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in csv_file.headers["Content-Disposition"]
    text = csv_file.get_data(as_text=True)
    lines = text.splitlines()
    assert lines[0] == "siruta_code,cui,period,period_status,indicator,dimension,value,flag"
    # A numeric value column with a separate flag, and the institution's identifiers.
    assert "40198,4540623,2025,final,reports_received,total,9," in lines
    assert "40198,4540623,2025,final,reports_by_channel,web,3," in lines
    assert "40198,4540623,2025,final,reports_by_channel,email,,suppressed" in lines
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", line.split(",")[6]) or
               line.split(",")[7] in ("suppressed", "not_published") for line in lines[1:])
    # Only whole years are offered for publication: a quarter is refused, with the reason.
    quarter = staff.get("/staff/stats/export/json?period=quarter&year=2025&quarter=4")
    assert quarter.status_code == 302
    assert "whole calendar years" in staff.get(quarter.location).get_data(as_text=True)
    meta = staff.get("/staff/stats/export/metadata?period=year&year=2025").json
    assert meta["publisher"] == "Comuna Bălțați" and meta["suppression_threshold"] == 3
    assert (meta["publisher_siruta_code"], meta["publisher_cui"]) == ("40198", "4540623")
    assert meta["period_status"] == "final" and meta["provisional"] is False
    assert set(meta["indicators"]) >= {"reports_received", "reports_by_channel",
                                       "preventive_posts", "forward_5_days"}
    document = staff.get("/staff/stats/export/json?period=year&year=2025").json
    received = next(row for row in document["data"] if row["indicator"] == "reports_received")
    assert received == {"siruta_code": "40198", "cui": "4540623", "period": "2025",
                        "period_status": "final", "indicator": "reports_received",
                        "dimension": "total", "value": 9, "flag": ""}
    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "stats_export").order_by(AuditEntry.seq)).all()
    assert len(entries) == before + 3
    assert [e.actor_staff_id for e in entries] == [known.id] * 3
    assert '"format": "csv"' in entries[0].detail and '"period": "2025"' in entries[0].detail


def test_the_unfinished_year_is_exported_as_provisional(known, app):
    runner = app.test_cli_runner()
    this_year = date.today().year
    result = runner.invoke(args=["stats", "export", "--year", str(this_year), "--format",
                                 "csv"])
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in result.output.splitlines()[1:]]
    assert rows and all(row[3] == "provisional" for row in rows)
    assert all(row[7] in ("provisional", "suppressed", "not_published") for row in rows)
    result = runner.invoke(args=["stats", "export", "--year", str(this_year), "--format",
                                 "metadata"])
    assert '"provisional": true' in result.output


def test_the_command_line_export_is_audited(known, app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["stats", "export", "--year", "2025", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert ",,2025,final,reports_received,total,9," in result.output
    target = tmp_path / "indicatori.json"
    result = runner.invoke(args=["stats", "export", "--year", "2025", "--format", "json",
                                 "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert '"reports_received"' in target.read_text(encoding="utf-8")
    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "stats_export")).all()
    assert len(entries) == 2 and all(e.actor_staff_id is None for e in entries)


def test_annual_report_compares_with_the_year_before(known, sign_in):
    page = sign_in(known).get("/staff/stats/annual/2025")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "annual evaluation report 2025" in html
    assert re.search(r'<th scope="row">Reports sent by citizens</th><td class="num">1</td>'
                     r'<td class="num">9</td><td class="num">\+8</td>', html)
    assert re.search(r'<th scope="row">Preventive messages and posts published</th>'
                     r'<td class="num">1</td><td class="num">3</td><td class="num">\+2</td>', html)
    assert "Save as PDF" in html

"""The coordinator's pages in Debian's Chromium: the dashboard draws its charts on the server
(SVG and tables present with JavaScript off), and axe-core finds no serious or critical
violation on the dashboard, the annual report, the outreach log and /transparency.

The coordinator signs in as a person would: /staff/login, then /staff/login/code with a TOTP
code computed from the key shown at enrolment (id="totp-secret").
"""
import re
from datetime import date
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.models import Channel, OutreachItem, OutreachKind, OutreachPlatform, Platform, Role
from tests.browser.test_accessibility import AxeAudit
from tests.support.desk import Desk, utc
from tests.support.staff import SUBMIT, sign_in_page

pytestmark = pytest.mark.browser

LAST_YEAR = date.today().year - 1


@pytest.fixture
def coordinator_data(portal, institution, make_handler, kdf_params):
    """A coordinator, last year's reports on several channels and some outreach, committed
    before the browser starts."""
    coordinator = make_handler("Carmen Coordonatoare", roles=(Role.COORDINATOR,))
    desk = Desk(institution, make_handler("Ion Operator"), kdf_params)
    for month, channel, platform in ((1, Channel.WEB, None), (2, Channel.WEB, None),
                                     (3, Channel.EMAIL, None), (5, Channel.PHONE, None),
                                     (6, Channel.SOCIAL_MEDIA, Platform.FACEBOOK),
                                     (9, Channel.WEB, None), (11, Channel.POST, None)):
        desk.receive(channel, platform=platform, at=utc(LAST_YEAR, month, 12, 10))
    for month, platform in ((2, OutreachPlatform.FACEBOOK), (4, OutreachPlatform.WEBSITE)):
        db.session.add(OutreachItem(institution_id=institution.id, kind=OutreachKind.POST,
                                    platform=platform, published_on=date(LAST_YEAR, month, 1),
                                    title="Cum sesizați un incident de integritate",
                                    link="https://example.org/post"))
    db.session.commit()
    person = SimpleNamespace(email=coordinator.email, password=coordinator.password)
    db.session.close()
    return person


def test_dashboard_charts_render_without_javascript(new_page, coordinator_data):
    page = new_page(java_script_enabled=False)
    sign_in_page(page, coordinator_data)
    response = page.goto(f"/staff/stats?period=year&year={LAST_YEAR}")
    assert response.status == 200
    charts = page.locator("svg.chart[role=img]")
    assert charts.count() == 4
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.locator("title").count() == 1 and chart.locator("desc").count() == 1
        assert chart.get_attribute("aria-labelledby")
        assert chart.bounding_box()["width"] > 100  # laid out, without any script
    assert page.locator("#chart-channels rect, svg.chart rect").count() >= 13
    bars = page.locator('svg[aria-labelledby^="chart-channels"] rect')
    widths = [float(bars.nth(i).get_attribute("width")) for i in range(bars.count())]
    assert max(widths) == 300.0 and widths.count(0.0) >= 5  # web has the most; zeros are 0
    assert page.locator("table.counts").count() >= 8
    channel_table = page.locator("table.counts").first
    assert "3" in channel_table.locator("tbody tr").first.inner_text()  # web: 3
    assert page.locator("script").count() == 0


def test_coordinator_pages_have_no_serious_accessibility_violations(new_page, portal,
                                                                     coordinator_data):
    from playwright.sync_api import expect

    page = new_page(java_script_enabled=True)
    audit = AxeAudit("ro")
    sign_in_page(page, coordinator_data)
    page.goto(f"/staff/stats?period=year&year={LAST_YEAR}")
    audit.check(page, "indicators dashboard")
    page.goto("/staff/stats?period=range&start=2025-05-01&end=2025-04-01")
    expect(page.locator("#end-error")).to_have_count(1)
    audit.check(page, "indicators dashboard with a refused period")
    page.goto(f"/staff/stats/annual/{LAST_YEAR}")
    audit.check(page, "annual report")
    page.goto(f"/staff/outreach?year={LAST_YEAR}")
    assert page.locator("tbody tr").count() == 2
    audit.check(page, "outreach log")
    page.goto("/staff/outreach/new")
    audit.check(page, "outreach form")
    page.fill("#title", "")
    page.fill("#link", "ftp://nu")
    page.click(SUBMIT)
    expect(page.locator("#link-error")).to_have_count(1)
    audit.check(page, "outreach form with errors")
    page.goto(f"/staff/outreach?year={LAST_YEAR}")
    page.locator('a[href$="/delete"]').first.click()
    audit.check(page, "outreach delete confirmation")

    public = new_page(java_script_enabled=True)
    public.goto("/transparency")
    assert public.locator("table.figures").count() == 5
    audit.check(public, "transparency")
    audit.assert_clean()


def test_transparency_works_without_javascript(new_page, coordinator_data):
    page = new_page(java_script_enabled=False)
    response = page.goto("/transparency")
    assert response.status == 200
    assert len(response.body()) < 30_000
    assert page.locator("table.figures").count() == 5
    assert page.locator(f'a[href="/transparency/{LAST_YEAR}.csv"]').count() == 1
    download = page.request.get(f"/transparency/{LAST_YEAR}.csv")
    assert download.status == 200 and download.text().startswith("siruta_code,cui,period,")


def test_coordinator_dashboard_exports_annual_report_and_outreach(new_page, coordinator_data):
    """The coordinator's journey with JavaScript on: dashboard, the open-data exports as real
    downloads, the annual report, a new outreach entry."""
    import csv
    import io
    import json

    from tests.browser.citizen import download

    page = new_page(locale="en-GB")
    sign_in_page(page, coordinator_data)
    page.goto("/staff/")
    page.goto(f"/staff/stats?period=year&year={LAST_YEAR}")
    exports = page.locator("main ul a[href*='/stats/export/']")
    assert exports.count() == 3

    name, data = download(page, page.locator("a[href*='/stats/export/csv']"))
    assert name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) > 5 and all(len(row) == len(rows[0]) for row in rows)
    assert str(LAST_YEAR) in data.decode("utf-8-sig")
    name, data = download(page, page.locator("a[href*='/stats/export/json']"))
    assert name.endswith(".json")
    assert json.loads(data)  # a document, not an error page
    name, data = download(page, page.locator("a[href*='/stats/export/metadata']"))
    assert json.loads(data)

    page.locator(f"a[href$='/stats/annual/{LAST_YEAR}']").click()
    page.wait_for_url(re.compile(rf"/staff/stats/annual/{LAST_YEAR}$"))
    assert str(LAST_YEAR) in page.locator("main h1").inner_text()
    assert page.locator("main table").count() >= 1

    page.goto("/staff/outreach/new")
    page.check('input[name="kind"][value="activity"]')
    page.select_option("#platform", "website")
    page.fill("#published_on", f"{LAST_YEAR}-10-05")
    page.fill("#title", "Instruire anticorupție pentru angajați (journey outreach)")
    page.fill("#participants", "14")
    page.click(SUBMIT)
    page.goto(f"/staff/outreach?year={LAST_YEAR}")
    row = page.locator("tbody tr", has_text="(journey outreach)")
    assert row.count() == 1 and "14" in row.inner_text()


def _overflow(page, selector: str) -> list[tuple[int, int]]:
    """(scrollWidth, clientWidth) of each element that is wider than its box."""
    return page.evaluate("""selector => [...document.querySelectorAll(selector)]
        .map(el => [el.scrollWidth, el.clientWidth])
        .filter(([scroll, client]) => scroll > client)""", selector)


def test_deadline_figures_fit_1280_pixels_and_a4_in_romanian(new_page, coordinator_data,
                                                             tmp_path):
    """The deadline table in Romanian used to be about 1600 px wide: it overflowed at 1920 px
    and the printed annual report lost its last columns."""
    page = new_page(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    sign_in_page(page, coordinator_data)
    page.goto(f"/staff/stats?period=year&year={LAST_YEAR}")
    assert page.locator("html").get_attribute("lang") == "ro"
    table = page.locator("table.clocks")
    assert table.count() == 1
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert table.bounding_box()["x"] + table.bounding_box()["width"] <= width
    assert _overflow(page, "main, .chart-block, .chart-block > *") == []
    page.screenshot(path=str(tmp_path / "stats-1280.png"), full_page=True)
    # Numbers in the reader's locale: a decimal comma in Romanian.
    assert re.search(r"\d,\d\xa0%|\d,\d %", table.inner_text()) or "—" in table.inner_text()

    page.goto(f"/staff/stats/annual/{LAST_YEAR}")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 718, "height": 1000})  # A4 less 1.5 cm margins, 96 dpi
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for box in page.locator("table.clocks th, table.clocks td").all():
        right = box.bounding_box()
        assert right["x"] + right["width"] <= width + 0.5
    pdf = page.pdf(format="A4", margin={"top": "1.5cm", "bottom": "1.5cm", "left": "1.5cm",
                                        "right": "1.5cm"})
    assert pdf.startswith(b"%PDF")
    (tmp_path / "annual-report.pdf").write_bytes(pdf)


def test_stacked_deadline_bars_carry_their_counts(new_page, coordinator_data):
    page = new_page(java_script_enabled=False)
    sign_in_page(page, coordinator_data)
    page.goto(f"/staff/stats?period=year&year={LAST_YEAR}")
    chart = page.locator('svg[aria-labelledby^="chart-deadlines"]')
    texts = [chart.locator("text").nth(i).text_content()
             for i in range(chart.locator("text").count())]
    # Every part of a bar that is drawn has its count written on or beside it, and a part
    # is told apart by its pattern as well as its colour.
    drawn = chart.locator("rect.late, rect.met, rect.pending, rect.met-extended")
    assert drawn.count() >= 1
    assert any(re.fullmatch(r"\d+", text) for text in texts)
    assert chart.locator("rect[fill^='url(#']").count() >= 1 or \
        chart.locator("pattern").count() >= 1

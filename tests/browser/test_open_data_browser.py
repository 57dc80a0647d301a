"""The county's open-data page in a browser with JavaScript switched off: from the open-data
home to the county, the group figures and who implemented measure 2.2 in Romanian, and the
CSV downloaded with one row per institution and indicator."""
import csv
import io
import random
from datetime import UTC, date, datetime

import pytest

from app.extensions import db
from app.models import Institution
from tests.test_group_indicators import LAST_YEAR, add_case, add_post, make_institution

pytestmark = pytest.mark.browser


def test_county_page_and_csv_without_javascript(new_page, portal):
    baltati = db.session.scalar(db.select(Institution).where(
        Institution.name == portal.institution_name))
    baltati.county, baltati.siruta_code, baltati.cui = "Buzău", "95391", "4540380"
    neighbour = make_institution("Comuna Smeeni", "Buzău", "51289", "4280213")
    rng = random.Random(3)
    for n in range(5):
        add_case(baltati, datetime(LAST_YEAR, 3, 1 + n, 9, tzinfo=UTC), rng, n + 1)
    add_post(baltati, date(LAST_YEAR, 4, 1))
    db.session.commit()
    neighbour_name = neighbour.name
    db.session.close()

    page = new_page(java_script_enabled=False)
    page.goto("/open-data/")
    page.click("a:has-text('Buzău')")
    main = page.locator("main")
    assert "Cine a pus în aplicare măsura 2.2" in main.inner_text()
    institutions = page.locator("#institutions").inner_text()
    assert portal.institution_name in institutions and neighbour_name in institutions
    assert "Nimic raportat" in institutions  # the neighbour: no report, no post
    assert page.locator("#received tr.total td").first.inner_text() == "5"
    with page.expect_download() as waiting:
        page.click("main .downloads a:has-text('CSV')")
    download = waiting.value
    assert download.suggested_filename == f"avertizor-county-buzau-{LAST_YEAR}.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert {row["siruta_code"] for row in rows} == {"95391", "51289"}
    received = {row["siruta_code"]: row["value"] for row in rows
                if row["indicator"] == "reports_received"}
    assert received == {"95391": "5", "51289": "0"}

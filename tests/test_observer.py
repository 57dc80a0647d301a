"""An observer (a county council, the ministry) sees the integrity-plan indicators of their
group of institutions, suppressed as each institution publishes them, and nothing else."""
import csv
import io
import re
import secrets

import pytest

from app.extensions import db
from app.services.operations.institutions import create_institution
from tests.conftest import RECEIPT_RE, report_fields
from tests.support.forms import csrf_token
from tests.support.staff import make_observer, sign_in_client


def _reports(app, slug: str, count: int) -> None:
    for _ in range(count):
        client = app.test_client()
        data = report_fields(what_happened=f"Secret detail {slug}")
        data["csrf_token"] = csrf_token(client, f"/{slug}/report")
        page = client.post(f"/{slug}/report", data=data, content_type="multipart/form-data")
        assert RECEIPT_RE.search(page.get_data(as_text=True)), page.get_data(as_text=True)[:500]


@pytest.fixture
def communes(app, institution, make_handler, kdf_params):
    make_handler()  # Bălțați can receive reports
    others = {}
    for name, county in (("Comuna Sinești", "Iași"), ("Comuna Tăcuta", "Vaslui"),
                         ("Comuna Movileni", "Iași")):
        other, _ = create_institution(name)
        other.county = county
        others[name] = other
    institution.county = "Iași"
    db.session.commit()
    from app.models import Role
    from app.services.staff import members
    for name in ("Comuna Sinești", "Comuna Tăcuta"):
        members.add_staff(others[name], email=f"h@{others[name].slug}.example", name="H",
                          roles=[Role.HANDLER], password=secrets.token_urlsafe(16),
                          kdf_params=kdf_params)
    db.session.commit()
    _reports(app, institution.slug, 5)
    _reports(app, others["Comuna Sinești"].slug, 1)
    _reports(app, others["Comuna Tăcuta"].slug, 4)
    return institution, others


def test_a_county_observer_sees_the_countys_suppressed_indicators_only(app, communes):
    baltati, others = communes
    observer = make_observer(app, "county:Iași")
    browser = sign_in_client(app.test_client(), observer)
    page = browser.get("/staff/platform/observer")
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    text = page.get_data(as_text=True)
    assert "Comuna Bălțați" in text and "Comuna Sinești" in text and "Comuna Movileni" in text
    assert "Comuna Tăcuta" not in text  # another county
    assert "Secret detail" not in text
    rows = {name: row for name, row in re.findall(
        r'<tr><th scope="row">([^<(]+?)(?: \([^)]*\))?</th>(.*?)</tr>', text)}
    # Bălțați's 5 reports are published; Sinești's single one is not, not even as a total.
    assert ">5<" in rows["Comuna Bălțați"]
    assert ">1<" not in rows["Comuna Sinești"]
    # Movileni has received nothing: measure 2.2 not implemented, which the ministry asks.
    assert "Comuna Movileni" in rows

    data = browser.get("/staff/platform/observer.csv")
    assert data.status_code == 200 and data.mimetype == "text/csv"
    names = {row["name"] for row in csv.DictReader(io.StringIO(data.get_data(as_text=True)))}
    assert names == {"Comuna Bălțați", "Comuna Sinești", "Comuna Movileni"}
    # Nothing of any institution's own pages: cases, staff, administration, the operator's.
    for url in ("/staff/cases", "/staff/register", "/staff/admin/confirmations", "/staff/platform/"):
        assert browser.get(url).status_code == 403, url


def test_the_ministry_observer_narrows_to_any_county_and_quarter(app, communes):
    observer = make_observer(app, "*")
    browser = sign_in_client(app.test_client(), observer)
    everyone = browser.get("/staff/platform/observer").get_data(as_text=True)
    assert "Comuna Tăcuta" in everyone and "Comuna Bălțați" in everyone
    vaslui = browser.get("/staff/platform/observer?county=Vaslui&quarter=1").get_data(
        as_text=True)
    assert "Comuna Tăcuta" in vaslui and "Comuna Bălțați" not in vaslui
    assert browser.get("/staff/platform/observer?quarter=7").status_code == 404

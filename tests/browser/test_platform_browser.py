"""The platform operator in Debian's Chromium, through gunicorn: signs in (password, TOTP
enrolled from the key the page shows), creates an institution on the form without
JavaScript, downloads its recovery page from the confirmation screen (the code on the PDF
opens the institution's recovery key), finds it in the list, and no response of the server
was a 5xx (the package's server_health check reads gunicorn's log)."""
import re
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.crypto import keys
from app.crypto.seal import public_bytes
from app.extensions import db
from app.models import Institution
from tests.support.staff import SUBMIT, make_operator, sign_in_page

pytestmark = pytest.mark.browser

GROUP = re.compile(r"\b[A-Z2-7]{4}\b")


@pytest.fixture
def operator(portal, app):
    account = make_operator(app)
    person = SimpleNamespace(email=account.email, password=account.password)
    db.session.commit()
    db.session.close()
    return person


def test_the_operator_creates_an_institution_and_downloads_its_recovery_page_once(
        new_page, portal, operator, tmp_path):
    page = new_page(java_script_enabled=False)
    sign_in_page(page, operator, home=r"/staff/platform/$")
    assert page.locator("h1").inner_text() == "Instituții"
    page.click("text=Creați o instituție")
    page.fill("#name", "Comuna Scânteia")
    page.fill("#county", "Iași")
    page.fill("#siruta_code", "98256")
    page.fill("#cui", "4541077")
    page.fill("#phone", "0232 000 000")
    page.fill("#admin_email", "primar@scanteia.example")
    page.click(SUBMIT)
    assert page.locator("h1").inner_text() == "Comuna Scânteia a fost creată"
    with page.expect_download() as download_info:
        page.click("#recovery-page")
    download = download_info.value
    assert download.suggested_filename == "comuna-scanteia-recovery.pdf"
    saved = Path(tmp_path / "page.pdf")
    download.save_as(saved)
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(saved.read_bytes())).pages)
    section = text.split("Codul de recuperare", 2)[-1].split("La introducere")[0]
    code = "-".join(GROUP.findall(section))
    created = db.session.scalar(select(Institution).where(Institution.slug == "comuna-scanteia"))
    assert public_bytes(keys.private_key_from_recovery_code(code).public_key()) == \
        created.recovery_public_key
    db.session.close()
    page.click("text=Am descărcat-o")
    assert page.locator("#institutions").get_by_text("Comuna Scânteia").count() == 1
    page.goto("/staff/platform/?q=sc%C3%A2nteia")
    rows = page.locator("#institutions tbody tr")
    assert rows.count() == 1 and "98256" in rows.first.inner_text()

"""The outreach kit: poster and leaflet PDFs, the square image as SVG and PNG, each with the
institution's name, the portal's address and a QR code of it; a post in the outreach log can
name the item it used."""
import io
import json
import xml.etree.ElementTree as ET

import pypdf
import pytest
import segno
from PIL import Image
from sqlalchemy import select

from app.documents import outreach_kit
from app.extensions import db
from app.models import AuditEntry, OutreachItem, OutreachKitItem, Role
from app.services.errors import NotAuthorised
from app.services.indicators import outreach
from tests.conftest import csrf_token

ADDRESS = "http://127.0.0.1:5000/"  # the testing PUBLIC_URL's portal address
KIT = outreach_kit.KitText("Comuna Bălțați, județul Neamț", "https://avertizor.baltati.ro/")


@pytest.fixture
def coordinator(make_handler):
    return make_handler("Ioana Coordonatoare", roles=(Role.COORDINATOR,))


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_poster_and_leaflet_read_back_with_name_address_and_diacritics():
    poster = pypdf.PdfReader(io.BytesIO(outreach_kit.poster_pdf(KIT)))
    assert len(poster.pages) == 1
    box = poster.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210,
                                                                                           297)
    text = _text(outreach_kit.poster_pdf(KIT))
    assert "Comuna Bălțați, județul Neamț" in text and "https://avertizor.baltati.ro/" in text
    assert "Sesizați în siguranță" in text
    leaflet = outreach_kit.leaflet_pdf(KIT)
    assert len(pypdf.PdfReader(io.BytesIO(leaflet)).pages) == 2
    text = _text(leaflet)
    assert "Comuna Bălțați, județul Neamț" in text and "Cum sesizați" in text
    assert "https://avertizor.baltati.ro/" in text


def _modules() -> list[list[bool]]:
    qr = segno.make(KIT.address, error="m")
    return [[bool(m) for m in row] for row in qr.matrix_iter(scale=1, border=4)]


def test_svg_names_the_institution_and_png_decodes_square_with_the_qr_code():
    svg = outreach_kit.social_svg(KIT)
    root = ET.fromstring(svg)  # noqa: S314 (the portal's own SVG: checks it is well-formed)
    assert root.get("width") == root.get("height") == "1080"
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Comuna Bălțați, județul Neamț" in texts and KIT.address in texts

    image = Image.open(io.BytesIO(outreach_kit.social_png(KIT)))
    image.load()
    assert image.format == "PNG" and image.size == (1080, 1080)
    # The QR code's modules, read back at each module's centre, are segno's matrix.
    modules = _modules()
    cell = outreach_kit.QR_SIDE / len(modules)
    left = (1080 - outreach_kit.QR_SIDE) // 2
    read = [[image.getpixel((int(left + (c + 0.5) * cell),
                             int(outreach_kit.QR_TOP + (r + 0.5) * cell)))[0] < 128
             for c in range(len(modules))] for r in range(len(modules))]
    assert read == modules


def test_a_name_with_markup_stays_text_in_the_svg():
    svg = outreach_kit.social_svg(outreach_kit.KitText('Primăria "<script>" & Co', ADDRESS))
    assert "<script>" not in svg
    root = ET.fromstring(svg)  # noqa: S314 (the portal's own SVG)
    assert 'Primăria "<script>" & Co' in [e.text for e in root.iter(
        "{http://www.w3.org/2000/svg}text")]


def test_the_coordinator_downloads_the_kit_and_others_cannot(coordinator, sign_in, make_handler):
    browser = sign_in(coordinator)
    page = browser.get("/staff/outreach/kit")
    assert page.status_code == 200
    assert "Comuna Bălțați" in page.get_data(as_text=True)
    expected = {"poster.pdf": "application/pdf", "leaflet.pdf": "application/pdf",
                "social.svg": "image/svg+xml", "social.png": "image/png"}
    for name, mimetype in expected.items():
        reply = browser.get(f"/staff/outreach/kit/{name}")
        assert reply.status_code == 200 and reply.mimetype == mimetype
        assert reply.headers["Content-Disposition"].startswith("attachment")
    assert ADDRESS in _text(browser.get("/staff/outreach/kit/poster.pdf").data)
    assert "Comuna Bălțați" in browser.get("/staff/outreach/kit/social.svg").get_data(
        as_text=True)
    assert browser.get("/staff/outreach/kit/poster.png").status_code == 404

    handler = make_handler("Ana Popescu")
    assert sign_in(handler).get("/staff/outreach/kit/poster.pdf").status_code == 403
    with pytest.raises(NotAuthorised):
        outreach.kit_text(handler, ADDRESS)


def test_a_post_records_the_kit_item_it_used(coordinator, sign_in):
    browser = sign_in(coordinator)
    data = {"kind": "post", "platform": "facebook", "published_on": "2025-03-04",
            "title": "Afișul campaniei de sesizare", "link": "", "audience": "120",
            "participants": "", "feedback": "", "kit_item": "social_image"}
    response = browser.post("/staff/outreach/new", data={
        **data, "csrf_token": csrf_token(browser, "/staff/outreach/new")})
    assert response.status_code == 302, response.get_data(as_text=True)
    item = db.session.scalar(select(OutreachItem))
    assert item.kit_item is OutreachKitItem.SOCIAL_IMAGE
    created = db.session.scalar(select(AuditEntry).where(AuditEntry.action ==
                                                         "outreach_created"))
    assert json.loads(created.detail)["kit_item"] == "social_image"
    listing = browser.get("/staff/outreach?year=2025").get_data(as_text=True)
    assert "Social-media image from the outreach kit" in listing
    edit = browser.get(f"/staff/outreach/{item.id}/edit").get_data(as_text=True)
    assert '<option selected value="social_image">' in edit

    # An awareness activity does not link a kit item.
    refused = browser.post("/staff/outreach/new", data={
        **data, "kind": "activity", "platform": "public_meeting", "audience": "",
        "participants": "30", "csrf_token": csrf_token(browser, "/staff/outreach/new")})
    assert refused.status_code == 400
    assert "The outreach kit is linked to posts" in refused.get_data(as_text=True)
    bogus = browser.post("/staff/outreach/new", data={
        **data, "kit_item": "banner", "csrf_token": csrf_token(browser, "/staff/outreach/new")})
    assert bogus.status_code == 400
    assert "Choose an item of the outreach kit, or none." in bogus.get_data(as_text=True)

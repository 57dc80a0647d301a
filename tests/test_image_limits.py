"""The pixel cap on pictures (UPLOAD_MAX_IMAGE_PIXELS) is read from the picture's header and
applies before anything is decoded: at the cap a picture is accepted, one pixel row above it
is refused with the translated message, and nothing is stored. Through real gunicorn workers
with an 8000×8000 PNG: tests/browser/test_evidence_files.py."""
import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Case
from app.services.intake.evidence import DEFAULT_MAX_IMAGE_PIXELS


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 90).save(out, format="PNG")
    return out.getvalue()


def test_the_default_cap_is_well_below_pillows(app):
    assert app.config["UPLOAD_MAX_IMAGE_PIXELS"] == DEFAULT_MAX_IMAGE_PIXELS == 25_000_000
    assert app.config["UPLOAD_MAX_IMAGE_PIXELS"] < Image.MAX_IMAGE_PIXELS / 3


@pytest.mark.parametrize("app_config", [{"UPLOAD_MAX_IMAGE_PIXELS": 200 * 100}], indirect=True)
def test_pictures_above_the_cap_are_refused_with_a_message(submit, make_handler):
    make_handler()
    response, receipt = submit(files=[(io.BytesIO(png(200, 101)), "prea-mare.png")])
    assert response.status_code == 400 and receipt is None
    page = response.get_data(as_text=True)
    assert "This picture is too large: 0.02 megapixels, at most 0.02 are accepted" in page
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0

    response, receipt = submit(files=[(io.BytesIO(png(200, 100)), "exact.png")])
    assert receipt, response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1

"""What a citizen does on the portal, step by step, in a Playwright page. Selectors use the
form's field names and ids, so the steps work in both languages. Playwright is imported
lazily, so that a machine without it collects these tests and skips them cleanly."""
from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

RECEIPT_DISPLAY = re.compile(r"^\d{4} \d{4} \d{4} \d{4}$")
REFERENCE = re.compile(r"\b[A-Z]{2,}-\d{4}-\d{3,}\b")
REPORT_SUBMIT = 'main form[action$="/report"] button[type="submit"]'
LOGIN_SUBMIT = 'main form[action$="/follow-up"] button[type="submit"]'
MESSAGE_SUBMIT = 'main form[action$="/follow-up/message"] button[type="submit"]'
LEAVE = 'main form[action$="/follow-up/logout"] button[type="submit"]'


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A valid RGB PNG, built in memory (the server re-encodes images to strip metadata)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + bytes([200, 30, 30]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@dataclass
class Submitted:
    receipt_display: str  # as shown: "1234 5678 9012 3456"
    reference: str
    response: object  # the browser's view of the POST /report response (the receipt page)

    @property
    def receipt(self) -> str:
        return self.receipt_display.replace(" ", "")


def fill_report(page: Page, what_happened: str, *, files=None, category: str = "bribery",
                work_context: str = "no", identity: dict | None = None) -> None:
    """Open /report and fill it in as a reporter who consents: anonymous, or identified with
    identity={"name": ..., "email": ...}."""
    page.goto("/report")
    page.check(f'input[name="category"][value="{category}"]')
    page.fill("#what_happened", what_happened)
    page.check(f'input[name="work_context"][value="{work_context}"]')
    if identity:
        page.check('input[name="identity_choice"][value="identified"]')
        for name, value in identity.items():
            page.fill(f"#{name}", value)
    else:
        page.check('input[name="identity_choice"][value="anonymous"]')
    page.check("#consent")
    if files:
        page.set_input_files("#evidence", files)


def send_report(page: Page) -> Submitted:
    """Press "Send the report" and read the receipt page."""
    from playwright.sync_api import expect

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click(REPORT_SUBMIT)
    code = page.locator("#receipt-code")
    expect(code).to_be_visible()
    page.wait_for_load_state()
    shown = code.inner_text().strip()
    assert RECEIPT_DISPLAY.match(shown), f"receipt is not 16 digits in groups of 4: {shown!r}"
    reference = REFERENCE.search(page.locator("main").inner_text())
    assert reference, "the receipt page shows no case reference"
    return Submitted(receipt_display=shown, reference=reference.group(0),
                     response=posted.value)


def report(page: Page, what_happened: str = "The clerk asked for money to issue a permit.",
           **options) -> Submitted:
    fill_report(page, what_happened, **options)
    return send_report(page)


def open_case(page: Page, receipt: str) -> None:
    """Log in at /follow-up with the receipt and land on the case page."""
    from playwright.sync_api import expect

    page.goto("/follow-up")
    page.fill("#receipt", receipt)
    page.click(LOGIN_SUBMIT)
    expect(page).to_have_url(re.compile(r"/follow-up/case$"))
    page.wait_for_load_state()


GPS_IFD = 0x8825
MAKE = 0x010F


def photo_with_location(width: int = 96, height: int = 64) -> bytes:
    """A JPEG as a phone writes it: a camera make and a GPS position in its EXIF block."""
    import io

    from PIL import Image

    image = Image.new("RGB", (width, height))
    image.putdata([(x * 255 // width, y * 255 // height, 128)
                   for y in range(height) for x in range(width)])
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker (exif marker)"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (45.0, 38.0, 1.5), 3: "E", 4: (25.0, 35.0, 2.5)})
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def assert_same_picture(sent: bytes, received: bytes, *, lossy: bool) -> None:
    """The picture a handler downloads is the one the reporter sent, minus its metadata: the
    same size and pixels (a JPEG is re-encoded, so its pixels may differ by a few levels), and
    no EXIF or GPS block left."""
    import io

    from PIL import Image, ImageChops, ImageStat

    with Image.open(io.BytesIO(sent)) as original, Image.open(io.BytesIO(received)) as copy:
        assert copy.format == original.format and copy.size == original.size
        exif = copy.getexif()
        assert MAKE not in exif and not exif.get_ifd(GPS_IFD), f"metadata left: {dict(exif)}"
        assert b"exif marker" not in received
        difference = ImageChops.difference(original.convert("RGB"), copy.convert("RGB"))
        if lossy:
            assert max(ImageStat.Stat(difference).mean) < 3, "the picture itself changed"
        else:
            assert difference.getbbox() is None, "the pixels changed"


def download(page: Page, link) -> tuple[str, bytes]:
    """Click a download link; returns (the file name the server suggested, the bytes)."""
    from pathlib import Path

    with page.expect_download() as started:
        link.click()
    got = started.value
    assert got.failure() is None, got.failure()
    return got.suggested_filename, Path(got.path()).read_bytes()


def huge_png(width: int, height: int) -> bytes:
    """A PNG that is small on disk but huge once decoded (one colour: it compresses ~1000:1),
    written row by row so the test itself never holds the pixels."""
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x10\x20\x30" * width
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))

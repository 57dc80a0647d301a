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
                work_context: str = "no") -> None:
    """Open /report and fill it in as an anonymous reporter who consents."""
    page.goto("/report")
    page.check(f'input[name="category"][value="{category}"]')
    page.fill("#what_happened", what_happened)
    page.check(f'input[name="work_context"][value="{work_context}"]')
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

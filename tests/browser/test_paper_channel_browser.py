"""The paper channel in a real browser, through real gunicorn workers: a handler downloads
printed forms, records a box report typing one form's code, and the reporter (JavaScript off)
follows up at /follow-up with the code on the part of the form they kept."""
import io
import re

from pypdf import PdfReader

from tests.support.staff import SUBMIT, sign_in_page

from .citizen import open_case, report
from .test_accessibility import AxeAudit

KEPT_RE = re.compile(r"Codul dumneavoastră: (\d{4} \d{4} \d{4} \d{4})")


def main_text(page) -> str:
    return page.locator("main").inner_text()


def test_a_printed_form_s_code_typed_at_intake_opens_the_case(new_page, portal):
    handler = new_page(locale="en-GB")
    sign_in_page(handler, portal.handler)
    handler.goto("/staff/intake")
    handler.click("text=Print paper report forms for the box and for post")
    audit = AxeAudit("en")
    audit.check(handler, "paper forms")
    handler.fill("#count", "2")
    with handler.expect_download() as download_info:
        handler.click(SUBMIT)
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pages = [page.extract_text() for page in PdfReader(
        io.BytesIO(open(download.path(), "rb").read())).pages]
    assert len(pages) == 4
    kept = [KEPT_RE.search(page).group(1) for page in pages[1::2]]
    assert len(set(kept)) == 2
    assert "Bălțați" in pages[0]

    handler.goto("/staff/intake")
    handler.select_option("#channel", "box")
    handler.select_option("#category", "misuse_of_funds")
    handler.fill("#what_happened", "Sesizare din cutie (journey paper form).")
    handler.fill("#form_code", kept[1])
    handler.click(SUBMIT)
    assert handler.locator("#form-code-bound").count() == 1
    audit.check(handler, "intake done, bound to the form's code")
    assert handler.locator("#receipt-code").count() == 0

    # The same code again is refused with its message; nothing new is recorded.
    handler.goto("/staff/intake")
    handler.select_option("#channel", "post")
    handler.fill("#what_happened", "A doua sesizare cu același cod.")
    handler.fill("#form_code", kept[1])
    handler.click(SUBMIT)
    assert "already in use for another report" in main_text(handler)
    audit.check(handler, "intake, form code refused")

    # A phone report's receipt page prints as the slip.
    handler.goto("/staff/intake")
    handler.select_option("#channel", "phone")
    handler.fill("#what_happened", "Sesizare telefonică.")
    handler.fill("#transcript", "Notă.")
    handler.click(SUBMIT)
    assert handler.locator(".slip svg").count() == 1
    audit.check(handler, "intake receipt slip")
    handler.emulate_media(media="print")  # printed, only the slip remains
    assert handler.locator(".slip").is_visible() and handler.locator(".slip svg").is_visible()
    assert not handler.locator("header.staff").is_visible()
    assert not handler.locator('main a[href*="/staff/cases/"]').is_visible()
    handler.goto("/staff/intake")  # a page without a slip prints whole
    assert handler.locator("#what_happened").is_visible()
    handler.emulate_media(media="screen")
    audit.assert_clean()

    reporter = new_page(java_script_enabled=False)
    open_case(reporter, kept[1])
    assert "(journey paper form)" in main_text(reporter)
    # The other printed form's code opens nothing.
    other = new_page(java_script_enabled=False)
    other.goto("/follow-up")
    other.fill("#receipt", kept[0])
    other.click('main form button[type="submit"]')
    assert "/follow-up/case" not in other.url


def test_the_web_receipt_prints_as_a_slip_without_javascript(new_page, portal):
    citizen = new_page(java_script_enabled=False)
    submitted = report(citizen, "Sesizare pentru chitanță (journey slip).")
    slip = citizen.locator(".slip")
    assert portal.institution_name in slip.inner_text()
    assert "/follow-up" in citizen.locator("#followup-address").inner_text()
    assert submitted.receipt_display.replace(" ", "") not in slip.locator("svg").inner_html()
    citizen.emulate_media(media="print")
    assert slip.is_visible() and slip.locator("svg").is_visible()
    assert not citizen.locator("header.site nav").is_visible()
    assert not citizen.locator('main a[href$="/follow-up"]').is_visible()
    citizen.goto("/privacy")  # a page without a slip prints whole
    assert citizen.locator("main h2").first.is_visible()

"""The whole citizen journey with JavaScript switched off (Tor Browser "safest"): report with
several evidence files (a phone photo with its GPS position among them), receipt, follow-up
with the receipt, the files downloaded back (the photo without its metadata), a message with
a file, and leaving. (Reading and downloading what staff send is in the handler's journey,
tests/browser/test_backoffice_journey.py.)"""
import re

import pytest

from tests.browser.citizen import (
    LEAVE,
    MESSAGE_SUBMIT,
    REPORT_SUBMIT,
    assert_same_picture,
    download,
    open_case,
    photo_with_location,
    report,
    tiny_png,
)

pytestmark = pytest.mark.browser

WHAT_HAPPENED = ("Funcționarul de la urbanism a cerut 500 de lei ca să elibereze autorizația "
                 "de construire. Nr. dosar 17/2026.")
MESSAGE = "Am găsit și chitanța de la ghișeu; o atașez aici."


def test_report_follow_up_and_leave_without_javascript(new_page, portal):
    page = new_page(java_script_enabled=False)
    photo = photo_with_location()
    submitted = report(page, WHAT_HAPPENED, files=[
        {"name": "fotografie-ghiseu.png", "mimeType": "image/png", "buffer": tiny_png()},
        {"name": "telefon.jpg", "mimeType": "image/jpeg", "buffer": photo},
        {"name": "note.txt", "mimeType": "text/plain",
         "buffer": b"Ora 10:15, biroul 4.\n"},
    ])
    receipt_page = submitted.response
    assert receipt_page.request.method == "POST" and receipt_page.status == 200
    assert "no-store" in receipt_page.headers.get("cache-control", "")

    # Back with the receipt typed as it was shown (groups of four digits).
    open_case(page, submitted.receipt_display)
    main = page.locator("main")
    case_text = main.inner_text()
    assert submitted.reference in page.locator("h1").inner_text()
    assert WHAT_HAPPENED in case_text
    assert "fotografie-ghiseu.png" in case_text and "note.txt" in case_text
    sent = page.locator("main .sent")
    assert download(page, sent.locator("a", has_text="note.txt")) == (
        "note.txt", b"Ora 10:15, biroul 4.\n")
    name, data = download(page, sent.locator("a", has_text="telefon.jpg"))
    assert name == "telefon.jpg"
    assert_same_picture(photo, data, lossy=True)

    page.fill("#body", MESSAGE)
    page.set_input_files('main form[action$="/follow-up/message"] input[type="file"]', {
        "name": "chitanta.txt", "mimeType": "text/plain", "buffer": b"Chitanta nr. 42"})
    page.click(MESSAGE_SUBMIT)
    page.wait_for_url(re.compile(r"/follow-up/case\?sent=1$"))
    assert page.locator('main [role="status"]').count() == 1
    thread = page.locator("main ol.thread")
    assert MESSAGE in thread.inner_text() and "chitanta.txt" in thread.inner_text()

    followup_cookie = next(cookie for cookie in page.context.cookies()
                           if cookie["name"] == "avertizor_followup")

    page.click(LEAVE)
    page.wait_for_url(re.compile(r"/\?logged_out=1$"))
    assert page.locator('main [role="status"]').count() == 1
    assert "avertizor_followup" not in {cookie["name"] for cookie in page.context.cookies()}

    response = page.goto("/follow-up/case")
    assert response.status == 401
    gone = page.locator("main").inner_text()
    assert submitted.reference not in gone and WHAT_HAPPENED not in gone and MESSAGE not in gone
    assert page.locator("#receipt").count() == 1, "should be back at the receipt form"

    # Logging out ended the session on the server, not just in this browser: the old cookie,
    # put back, opens nothing.
    page.context.add_cookies([followup_cookie])
    response = page.goto("/follow-up/case")
    assert response.status == 401
    assert submitted.reference not in page.locator("main").inner_text()


def test_empty_report_is_refused_with_messages_without_javascript(new_page, portal):
    """Without JS there is no client-side check: the server explains every missing answer and
    keeps nothing."""
    page = new_page(java_script_enabled=False)
    page.goto("/report")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click(REPORT_SUBMIT)
    assert posted.value.status == 400
    page.wait_for_load_state()
    assert page.locator('main [role="alert"]').count() == 1
    for field in ("category", "what_happened", "work_context", "consent"):
        assert page.locator(f"#{field}-error").count() == 1, f"no error shown for {field}"
    assert page.locator('#what_happened[aria-invalid="true"]').count() == 1
    assert page.locator("#receipt-code").count() == 0

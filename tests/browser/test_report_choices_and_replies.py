"""Through real gunicorn workers in Chromium: the report form never offers a choice that leaves
nobody able to read the report, asks before dropping contact details typed beside
"anonymous", keeps the chosen files (encrypted) across a correction; a reporter's reply is
marked unread in the handler's inbox and mailed (without content); the history reads as
sentences."""
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Case, OutboxMail
from tests.support.staff import sign_in_page

from .citizen import LOGIN_SUBMIT, MESSAGE_SUBMIT, REPORT_SUBMIT, fill_report, report, tiny_png

pytestmark = pytest.mark.browser


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def test_single_handler_contact_question_and_files_to_attach_again(new_page, portal):
    page = new_page(java_script_enabled=False, locale="en-GB")
    fill_report(page, "Mită la urbanism (choices marker).",
                files=[{"name": "dovada.png", "mimeType": "image/png",
                        "buffer": tiny_png()}])
    # One designated person: no exclusion is offered, and the reason and ANI are given.
    assert page.locator('input[name="excluded"]').count() == 0
    assert "National Integrity Agency (ANI)" in page.locator("#single-handler").inner_text()

    page.fill("#email", "ion@example.ro")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click(REPORT_SUBMIT)
    assert posted.value.status == 400
    main = page.locator("main").inner_text()
    assert "you typed contact details" in main
    assert page.locator("#email").input_value() == "ion@example.ro"
    # The file is kept (encrypted, key in the cookie): it need not be chosen again.
    assert "dovada.png" in page.locator("#held-files").inner_text()

    page.check('input[name="contact_choice"][value="discard"]')
    page.check("#consent")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click(REPORT_SUBMIT)
    assert posted.value.status == 200
    expect(page.locator("#receipt-code")).to_be_visible()
    case = db.session.scalar(select(Case))
    assert case.anonymous and case.notify is None
    assert db.session.scalar(select(func.count()).select_from(Attachment).where(
        Attachment.case_id == case.id)) == 1
    db.session.close()


def test_reply_is_marked_unread_mailed_and_history_reads(new_page, portal, make_handler):
    member = make_handler("Bogdan Ionescu")
    handler = SimpleNamespace(email=member.email, password=member.password, name=member.name)
    db.session.close()
    citizen = new_page(java_script_enabled=False, locale="ro-RO")
    submitted = report(citizen, "Mită la urbanism (reply marker).")

    desk = new_page(locale="ro-RO")  # staff pages with JavaScript on
    sign_in_page(desk, handler)
    desk.click(f"text={submitted.reference}")
    history = desk.locator("section[aria-labelledby=history-title]").inner_text()
    assert "Sesizarea a sosit prin" in history and "A deschis cazul." in history
    assert "case_opened" not in history and "{" not in history
    # Nothing preselected on the close form; the revoke list leaves the signed-in person out.
    assert desk.locator("#close-outcome").input_value() == ""
    revoke = desk.locator("#revoke-member option").all_inner_texts()
    assert handler.name not in revoke and portal.handler_name in revoke

    citizen.goto("/follow-up")
    citizen.fill("#receipt", submitted.receipt)
    citizen.click(LOGIN_SUBMIT)
    citizen.fill("#body", "Am încă un document (reply-secret-text).")
    citizen.click(MESSAGE_SUBMIT)
    citizen.wait_for_url(re.compile(r"/follow-up/case\?sent=1"))

    response = desk.goto("/staff/cases")
    assert response.status == 200
    row = desk.locator("tr", has_text=submitted.reference)
    assert "Mesaj nou de la avertizor" in row.inner_text()
    mails = db.session.scalars(select(OutboxMail).where(
        OutboxMail.kind == "reporter_message")).all()
    # Both handlers hold the case; each is told once.
    assert len(mails) == 2 and handler.email in [m.recipient for m in mails]
    assert all("reply-secret-text" not in m.body for m in mails)
    db.session.close()

    desk.click(f"text={submitted.reference}")
    expect(desk.locator("#unread-reporter")).to_be_visible()
    desk.goto("/staff/cases")
    assert "Mesaj nou de la avertizor" not in desk.locator(
        "tr", has_text=submitted.reference).inner_text()

"""The back office in a real browser: an admin invites a handler, who activates the account
with a TOTP second factor, signs in, opens a web report, acknowledges it, writes to the
reporter (who reads it at /follow-up with the receipt) and closes the case; then records a
phone report and hands over its receipt."""
import base64
import re
import time
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.models import Role
from app.services import totp

from .citizen import open_case, report
from .test_stats_browser import SUBMIT, sign_in

pytestmark = pytest.mark.browser


def totp_code(secret: bytes, step_offset: int = 0) -> str:
    return totp.code_at(secret, time.time() + 30 * step_offset)


@pytest.fixture
def admin(portal, make_handler):
    member = make_handler("Adi Administrator", roles=(Role.ADMIN,))
    person = SimpleNamespace(email=member.email, password=member.password)
    db.session.close()
    return person


@pytest.fixture
def second_admin(admin, make_handler):
    """Confirms the handler the first admin invited: no one becomes a reader alone."""
    member = make_handler("Radu Administrator", roles=(Role.ADMIN,))
    person = SimpleNamespace(email=member.email, password=member.password)
    db.session.close()
    return person


def test_invite_activate_handle_and_close(new_page, admin, second_admin):
    # The admin invites a new handler and reads the one-time activation link.
    desk = new_page(java_script_enabled=False, locale="en-GB")
    sign_in(desk, admin)
    desk.goto("/staff/admin/invite")
    desk.fill("#name", "Maria Nouă")
    desk.fill("#email", "maria@baltati.example")
    desk.check('input[name="roles"][value="handler"]')
    desk.click(SUBMIT)
    link = desk.locator("#activation-link").inner_text().strip()
    path = re.sub(r"^https?://[^/]+", "", link)

    # The invitee sets a password and enrols the second factor on the same page.
    invitee = new_page(java_script_enabled=False, locale="en-GB")
    invitee.goto(path)
    text = invitee.locator("#totp-secret").inner_text().replace(" ", "")
    secret = base64.b32decode(text + "=" * (-len(text) % 8))
    invitee.fill("#password", "o parolă lungă și bună")
    invitee.fill("#confirm", "o parolă lungă și bună")
    invitee.fill("#code", totp_code(secret))
    invitee.click(SUBMIT)
    invitee.wait_for_load_state()

    # Another administrator confirms the new account on the staff page: until then no report
    # is sealed to it.
    confirmer = new_page(java_script_enabled=False, locale="en-GB")
    sign_in(confirmer, second_admin)
    confirmer.goto("/staff/admin/")
    assert "waiting for confirmation" in confirmer.locator("main").inner_text()
    confirmer.click("text=Confirm account")
    confirmer.wait_for_url(re.compile(r"/staff/admin/confirmations"))
    assert "Maria Nouă is confirmed." in confirmer.locator("main").inner_text()

    # A reporter sends a web report; it is sealed to the handlers who exist now, Maria
    # included. (Reports older than her account reach her through `recovery grant`.)
    citizen = new_page(java_script_enabled=False, locale="en-GB")
    submitted = report(citizen, "A doua sesizare: mită la urbanism (journey marker).")

    # Sign in with password and the next TOTP code.
    handler = new_page(java_script_enabled=False, locale="en-GB")
    handler.goto("/staff/login")
    handler.fill("#email", "maria@baltati.example")
    handler.fill("#password", "o parolă lungă și bună")
    handler.click(SUBMIT)
    handler.wait_for_url(re.compile(r"/staff/login/code"))
    handler.fill("#code", totp_code(secret, 1))
    handler.click(SUBMIT)
    handler.wait_for_url(re.compile(r"/staff/cases"))

    handler.click(f"text={submitted.reference}")
    assert "mită la urbanism (journey marker)" in handler.locator("main").inner_text()
    handler.check('input[name="triage-regime"][value="whistleblower"]')
    handler.click("text=Record triage")
    handler.fill("#ack-message", "Am primit sesizarea dumneavoastră (journey ack).")
    handler.click("text=Send acknowledgement")
    handler.fill("#msg-body", "Aveți documente? (journey question)")
    handler.locator("form[action$='/message'] button[type=submit]").click()
    assert "Message sent." in handler.locator("main").inner_text()

    # The reporter reads both messages with the receipt.
    open_case(citizen, submitted.receipt)
    page = citizen.locator("main").inner_text()
    assert "(journey ack)" in page and "(journey question)" in page

    # The handler closes the case with an outcome and a reasoned answer.
    handler.select_option("#close-outcome", "substantiated")
    handler.fill("#close-message", "Faptele s-au confirmat (journey close).")
    handler.click("text=Close the case")
    assert "The case is closed." in handler.locator("main").inner_text()
    citizen.goto("/follow-up/case")
    assert "(journey close)" in citizen.locator("main").inner_text()

    # A phone report recorded by hand, with a receipt to hand over.
    handler.goto("/staff/intake")
    handler.select_option("#channel", "phone")
    handler.select_option("#category", "abuse_of_office")
    handler.fill("#what_happened", "Sesizare telefonică (journey phone).")
    handler.fill("#transcript", "Stenograma convorbirii (journey transcript).")
    handler.check("#reporter_signed")
    handler.click(SUBMIT)
    receipt = handler.locator("#receipt-code").inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{16}", receipt)
    phone_reporter = new_page(java_script_enabled=False, locale="en-GB")
    open_case(phone_reporter, receipt)
    assert "(journey transcript)" in phone_reporter.locator("main").inner_text()

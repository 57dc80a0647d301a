"""The back office in a real browser, through real gunicorn workers (JavaScript on for staff,
off for citizens):

- a case from report to forwarding: a reporter sends several files (a phone photo with GPS
  data among them); the handler signs in with TOTP, opens the case from the inbox, downloads
  every file and finds it identical to what was sent (pictures: same pixels, metadata gone),
  triages, acknowledges, writes with a file, notes, reveals the identity; the reporter reads,
  downloads the staff's file, answers with a file and logs out; the handler forwards;
- a phone report recorded by hand with a receipt, which opens it at /follow-up; as a petition
  its deadline is extended, then it is closed;
- the admin invites a handler, who activates the account with TOTP; the admin changes roles
  and settings and reads the audit log.
"""
import base64
import re
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Role
from app.services.staff import totp
from tests.support.staff import SUBMIT, sign_in_page

from .citizen import (
    LEAVE,
    MESSAGE_SUBMIT,
    assert_same_picture,
    download,
    open_case,
    photo_with_location,
    report,
    tiny_png,
)

pytestmark = pytest.mark.browser

REPORTER = {"name": "Ioana Martor", "email": "ioana.martor@example.org"}
SENT_FILES = {
    "ghiseu.jpg": ("image/jpeg", photo_with_location()),
    "chitanta.png": ("image/png", tiny_png(40, 30)),
    "declaratie.pdf": ("application/pdf", b"%PDF-1.4\n% declaratie martor\n%%EOF\n"),
    "înregistrare.txt": ("text/plain", "Ora 10:15, biroul 4 — suma cerută: 500 lei.\n".encode()),
}
STAFF_FILE = ("raspuns_primarie.pdf", b"%PDF-1.4\n% raspuns primarie\n%%EOF\n")
REPLY_FILE = ("chitanta-2.txt", b"Chitanta nr. 43, ghiseul 2\n")


def totp_code(secret: bytes, step_offset: int = 0) -> str:
    return totp.code_at(secret, time.time() + 30 * step_offset)


def audited(kind: str) -> int:
    """How many audit entries of this kind the database holds (read, then let go)."""
    count = len(db.session.scalars(select(AuditEntry.id).where(AuditEntry.action == kind)).all())
    db.session.close()
    return count


def main_text(page) -> str:
    return page.locator("main").inner_text()


def files_on_page(page, container: str = "main") -> dict:
    return {link.inner_text().strip(): link
            for link in page.locator(f'{container} a[href*="/files/"]').all()}


def assert_received(name: str, data: bytes, sent: dict) -> None:
    kind, original = sent[name]
    if kind.startswith("image/"):
        assert_same_picture(original, data, lossy=kind == "image/jpeg")
    else:
        assert data == original, f"{name} differs from what was sent"


def test_a_case_from_report_to_forwarding(new_page, portal):
    # The reporter (JavaScript off) sends a report with four files and keeps the receipt.
    citizen = new_page(java_script_enabled=False)
    submitted = report(
        citizen, "Funcționarul de la urbanism a cerut 500 de lei (handler journey).",
        identity=REPORTER,
        files=[{"name": name, "mimeType": kind, "buffer": data}
               for name, (kind, data) in SENT_FILES.items()])

    # The handler (JavaScript on) signs in with password and TOTP, finds it in the inbox.
    handler = new_page(locale="en-GB")
    sign_in_page(handler, portal.handler)
    handler.goto("/staff/cases")
    handler.locator("main a", has_text=submitted.reference).click()
    handler.wait_for_url(re.compile(r"/staff/cases/\d+"))
    case_url = handler.url
    assert "(handler journey)" in main_text(handler)

    # Every file downloads, byte for byte what was sent (pictures minus their metadata).
    links = files_on_page(handler)
    assert set(links) == set(SENT_FILES)
    downloads_before = audited("file_downloaded")
    for name, link in links.items():
        suggested, data = download(handler, link)
        assert suggested == name
        assert_received(name, data, SENT_FILES)
    assert audited("file_downloaded") == downloads_before + len(SENT_FILES)

    # Triage, acknowledgement, a message with a file, an internal note.
    handler.check('input[name="triage-regime"][value="whistleblower"]')
    handler.click("text=Record triage")
    handler.fill("#ack-message", "Am primit sesizarea dumneavoastră (journey ack).")
    handler.click("text=Send acknowledgement")
    handler.fill("#msg-body", "Vă trimitem răspunsul primăriei (journey question).")
    handler.set_input_files("#msg-evidence", {"name": STAFF_FILE[0], "mimeType":
                                              "application/pdf", "buffer": STAFF_FILE[1]})
    handler.locator("form[action$='/message'] button[type=submit]").click()
    assert "Message sent." in main_text(handler)
    handler.fill("#note-body", "De verificat registrul de intrări (journey note).")
    handler.locator("form[action$='/note'] button[type=submit]").click()
    assert "(journey note)" in main_text(handler)

    # The identity, shown for a written reason.
    handler.fill("#reveal-reason", "Trebuie audiată ca martor în cercetarea disciplinară.")
    handler.locator("form[action$='/identity'] button[type=submit]").last.click()
    identity = handler.locator("#identity-title + dl").inner_text()
    assert REPORTER["name"] in identity and REPORTER["email"] in identity
    assert audited("identity_revealed") == 1

    # The reporter reads both messages, downloads the staff's file, answers with a file.
    open_case(citizen, submitted.receipt)
    thread = citizen.locator("main ol.thread")
    assert "(journey ack)" in thread.inner_text()
    assert "(journey question)" in thread.inner_text()
    assert "(journey note)" not in main_text(citizen)
    staff_link = thread.locator("a", has_text=STAFF_FILE[0])
    suggested, data = download(citizen, staff_link)
    assert (suggested, data) == STAFF_FILE
    own_link = citizen.locator("main .sent a", has_text="declaratie.pdf")
    assert download(citizen, own_link)[1] == SENT_FILES["declaratie.pdf"][1]
    citizen.fill("#body", "Am mai găsit o chitanță (journey reply).")
    citizen.set_input_files('main form[action$="/follow-up/message"] input[type="file"]', {
        "name": REPLY_FILE[0], "mimeType": "text/plain", "buffer": REPLY_FILE[1]})
    citizen.click(MESSAGE_SUBMIT)
    citizen.wait_for_url(re.compile(r"/follow-up/case\?sent=1$"))
    citizen.click(LEAVE)
    citizen.wait_for_url(re.compile(r"/\?logged_out=1$"))

    # The handler sees the answer, opens its file and forwards the case.
    handler.goto(case_url)
    assert "(journey reply)" in main_text(handler)
    assert download(handler, files_on_page(handler)[REPLY_FILE[0]]) == REPLY_FILE
    handler.fill("#fwd-authority", "Direcția Generală Anticorupție (journey forward)")
    handler.fill("#fwd-forwarded_on", time.strftime("%Y-%m-%d"))
    handler.fill("#fwd-message", "Sesizarea a fost transmisă DGA (journey forward).")
    handler.locator("form[action$='/forward'] button[type=submit]").click()
    assert "Direcția Generală Anticorupție (journey forward)" in main_text(handler)
    open_case(citizen, submitted.receipt)
    assert "transmisă DGA (journey forward)" in main_text(citizen)


def test_phone_intake_with_a_receipt_extend_and_close(new_page, portal):
    handler = new_page(locale="en-GB")
    sign_in_page(handler, portal.handler)
    handler.goto("/staff/intake")
    handler.select_option("#channel", "phone")
    handler.select_option("#category", "abuse_of_office")
    handler.fill("#what_happened", "Sesizare telefonică (journey phone).")
    handler.fill("#transcript", "Stenograma convorbirii (journey transcript).")
    handler.check("#reporter_signed")
    handler.click(SUBMIT)
    receipt = handler.locator("#receipt-code").inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{16}", receipt)

    # The receipt handed over on the phone opens the case at /follow-up.
    phone_reporter = new_page(java_script_enabled=False, locale="en-GB")
    open_case(phone_reporter, receipt)
    assert "(journey transcript)" in main_text(phone_reporter)

    # As a petition: the answer deadline is extended once, then the case is closed.
    handler.locator('main a[href*="/staff/cases/"]').click()
    handler.wait_for_url(re.compile(r"/staff/cases/\d+"))
    handler.check('input[name="triage-regime"][value="petition"]')
    handler.click("text=Record triage")
    handler.fill("#ext-message", "Avem nevoie de încă 15 zile (journey extend).")
    handler.locator("form[action$='/extend'] button[type=submit]").click()
    assert handler.locator("form[action$='/extend']").count() == 0, "extended only once"
    handler.select_option("#close-outcome", "substantiated")
    handler.fill("#close-message", "Faptele s-au confirmat (journey close).")
    handler.click("text=Close the case")
    assert "The case is closed." in main_text(handler)
    phone_reporter.goto("/follow-up/case")
    text = main_text(phone_reporter)
    assert "(journey extend)" in text and "(journey close)" in text


@pytest.fixture
def admin(portal, make_handler):
    member = make_handler("Adi Administrator", roles=(Role.ADMIN,))
    person = SimpleNamespace(email=member.email, password=member.password)
    db.session.close()
    return person


def invite(desk, name: str, email: str, roles: list[str]) -> str:
    """The admin invites; returns the path of the one-time activation link."""
    desk.goto("/staff/admin/invite")
    desk.fill("#name", name)
    desk.fill("#email", email)
    for role in roles:
        desk.check(f'input[name="roles"][value="{role}"]')
    desk.click(SUBMIT)
    link = desk.locator("#activation-link").inner_text().strip()
    return re.sub(r"^https?://[^/]+", "", link)


def activate(invitee, path: str, password: str) -> bytes:
    """The invitee sets a password and enrols the second factor; returns the TOTP secret."""
    invitee.goto(path)
    text = invitee.locator("#totp-secret").inner_text().replace(" ", "")
    secret = base64.b32decode(text + "=" * (-len(text) % 8))
    invitee.fill("#password", password)
    invitee.fill("#confirm", password)
    invitee.fill("#code", totp_code(secret))
    invitee.click(SUBMIT)
    invitee.wait_for_load_state()
    return secret


def confirm_activation(confirmer, name: str) -> None:
    """A second administrator confirms the activated account: until then no report is sealed
    to it (no one becomes a reader alone)."""
    confirmer.goto("/staff/admin/")
    assert "waiting for confirmation" in main_text(confirmer)
    confirmer.click("text=Confirm account")
    confirmer.wait_for_url(re.compile(r"/staff/admin/confirmations"))
    assert f"{name} is confirmed." in main_text(confirmer)


@pytest.fixture
def second_admin(admin, make_handler):
    member = make_handler("Radu Administrator", roles=(Role.ADMIN,))
    person = SimpleNamespace(email=member.email, password=member.password)
    db.session.close()
    return person


def test_admin_invites_sets_roles_settings_and_reads_the_audit(new_page, admin, second_admin):
    desk = new_page(locale="en-GB")
    sign_in_page(desk, admin)
    password = "o parolă lungă și bună"
    path = invite(desk, "Maria Nouă", "maria@baltati.example", ["handler"])
    invitee = new_page(java_script_enabled=False, locale="en-GB")
    secret = activate(invitee, path, password)
    confirmer = new_page(java_script_enabled=False, locale="en-GB")
    sign_in_page(confirmer, second_admin)
    confirm_activation(confirmer, "Maria Nouă")

    # The new handler signs in with the next TOTP code and reaches the inbox.
    maria = new_page(locale="en-GB")
    sign_in_page(maria, SimpleNamespace(email="maria@baltati.example", password=password,
                                        totp_secret_raw=secret), step=1)

    # A report sent now is sealed to the handlers who exist now, Maria included. (Reports
    # older than her account reach her through `recovery grant`.)
    submitted = report(new_page(java_script_enabled=False), "Sesizare pentru Maria "
                       "(journey new handler).")
    maria.goto("/staff/cases")
    maria.locator("main a", has_text=submitted.reference).click()
    assert "(journey new handler)" in main_text(maria)

    # The admin gives her the coordinator role too.
    desk.goto("/staff/admin/")
    desk.locator("main table a", has_text="Maria Nouă").click()
    desk.wait_for_url(re.compile(r"/staff/admin/staff/\d+$"))
    desk.check('input[name="roles"][value="coordinator"]')
    desk.locator("form[action$='/roles'] button[type=submit]").click()
    desk.wait_for_load_state()
    assert desk.locator('input[name="roles"][value="coordinator"]').is_checked()
    maria.goto("/staff/stats")
    assert maria.locator("main h1").count() == 1

    # Settings: a changed retention period is saved and shown again.
    desk.goto("/staff/admin/settings")
    retention = int(desk.input_value("#retention_years"))
    desk.fill("#retention_years", str(retention + 1))
    desk.locator("main form button[type=submit]").first.click()
    desk.wait_for_url(re.compile(r"/staff/admin/settings$"))
    assert "The settings are saved." in main_text(desk)
    assert desk.input_value("#retention_years") == str(retention + 1)

    # The audit log holds an intact chain with the admin's actions, by name.
    desk.goto("/staff/admin/audit")
    assert desk.locator("#chain-status.notice").count() == 1
    by_admin = desk.locator("main tbody tr", has_text="Adi Administrator")
    assert by_admin.count() >= 3, main_text(desk)  # invitation, roles, settings

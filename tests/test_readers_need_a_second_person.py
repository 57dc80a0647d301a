"""No one becomes a reader of reports alone, and a stolen database does not let anyone activate
an account (DESIGN.md, People and Security).

The attacks: (1) with a copy of the database, read the activation link of an invitation from
the outbox (pending or sent) and activate the account; (2) with the link and the
configuration, activate it and read every new report; (3) an administrator gives themself the
handler role, or invites a handler they control and confirms them alone. Each must fail, and
every new reader is announced, content-free, to the institution's existing handlers.
"""
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, KeyKind, KeyWrap, OutboxMail, Role, StaffAccount, StaffMember
from app.services.access import recovery
from app.services.errors import DomainError, NotAuthorised
from app.services.operations import notify, outbox
from app.services.staff import accounts, totp
from tests.conftest import CSRF_RE
from tests.support import mail as mail_fixtures
from tests.support.database import stored_row_values
from tests.support.mail import SmtpServer
from tests.test_admin import (
    ENROLMENT_RE,
    NEW_PASSWORD,
    activate,
    invite_link,
    post_form,
    secret_from,
)

# The app mails through a real SMTP server on a free port.
smtp_port, app_config = mail_fixtures.smtp_port, mail_fixtures.app_config


@pytest.fixture
def smtp(smtp_port):
    server = SmtpServer(smtp_port).start()
    yield server
    server.stop()


def member_by_email(email: str) -> StaffMember:
    db.session.expire_all()
    return db.session.scalar(select(StaffMember).join(StaffMember.account).where(StaffAccount.email == email))


def sealed_to(member: StaffMember) -> int:
    return len(db.session.scalars(select(KeyWrap).where(KeyWrap.staff_id == member.id,
                                                        KeyWrap.kind == KeyKind.CASE)).all())


def mails(kind: str) -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.kind == kind)
                                   .order_by(OutboxMail.id)))


def test_no_activation_link_is_readable_from_the_database_pending_or_sent(
        app, admin_browser, smtp):
    link = invite_link(admin_browser, email="ion@baltati.example")
    token = link.rsplit("/", 1)[1]
    assert token not in stored_row_values(), "the pending invitation's link is in clear"
    outbox.deliver_outbox()
    [mail] = smtp.inbox.to("ion@baltati.example")
    assert link in mail.body  # the invitee gets it
    assert token not in stored_row_values(), "the sent invitation's link is in clear"
    [row] = mails("invitation")
    assert row.sent_at is not None and row.sealed is None and row.recipient == ""


def test_a_sealed_link_does_not_open_with_another_configuration(app, admin_browser):
    invite_link(admin_browser)
    [row] = mails("invitation")
    notify.open_parts(row.id, row.kind, row.sealed)  # opens with this SECRET_KEY
    app.config["SECRET_KEY"] = "another-" + app.config["SECRET_KEY"]
    try:
        report = outbox.deliver_outbox()
    finally:
        app.config["SECRET_KEY"] = app.config["SECRET_KEY"].removeprefix("another-")
    assert report.sent == 0 and report.failed == 1
    [row] = mails("invitation")
    assert row.sealed is None and row.sent_at is None and "DecryptionError" in row.last_error


def test_an_activated_handler_reads_nothing_until_a_second_person_confirms(
        app, admin, admin_browser, make_handler, submit, sign_in):
    """Whoever activates a link (the invitee, or an outsider who got it) is not a reader: new
    reports are not sealed to them until someone other than the inviter confirms."""
    existing = make_handler("Ana Popescu", email="ana@baltati.example")
    link = invite_link(admin_browser, name="Ion Ionescu", email="ion@baltati.example")
    response, secret = activate(app, link)
    assert response.status_code == 302
    ion = member_by_email("ion@baltati.example")
    assert ion.awaiting_confirmation
    ion.password, ion.totp_secret_raw, ion.sign_ins = NEW_PASSWORD, secret, 1
    ion_browser = sign_in(ion)
    assert "Your account waits for a second person" in ion_browser.get("/staff/").get_data(
        as_text=True)
    assert ion_browser.get("/staff/cases").status_code == 403
    # Those who may confirm are told (here the existing handler: the single admin invited).
    assert [m.recipient for m in mails("confirmation_needed")] == [existing.email]

    submit()
    case = db.session.scalar(select(Case).order_by(Case.id.desc()))
    assert sealed_to(ion) == 0 and sealed_to(existing) == 1
    assert all(m.recipient != ion.email for m in mails("new_report"))

    # The inviter cannot confirm: not in the service, not through the page.
    with pytest.raises(DomainError):
        accounts.confirm(admin, ion.id)
    db.session.rollback()
    response = post_form(admin_browser, f"/staff/admin/staff/{ion.id}/confirm",
                         "/staff/password", {})
    assert response.status_code == 302
    assert member_by_email(ion.email).awaiting_confirmation
    assert "You proposed this role" in admin_browser.get(
        "/staff/admin/confirmations").get_data(as_text=True)
    page = admin_browser.get(f"/staff/admin/staff/{ion.id}").get_data(as_text=True)
    assert "Who can confirm it: Ana Popescu." in page

    # The existing handler (a second person) confirms it on the confirmations page.
    handler_browser = sign_in(existing)
    page = handler_browser.get("/staff/admin/confirmations").get_data(as_text=True)
    assert "ion@baltati.example" in page and "Confirm account" in page
    response = post_form(handler_browser, f"/staff/admin/staff/{ion.id}/confirm",
                         "/staff/admin/confirmations", {})
    assert response.status_code == 302
    ion = member_by_email(ion.email)
    assert ion.confirmed and ion.confirmed_by_staff_id == existing.id
    assert ion.has_role(Role.HANDLER)
    # Every new reader is announced to the existing handlers, without content.
    [announcement] = mails("new_reader")
    assert announcement.recipient == existing.email and "ion@baltati.example" in \
        announcement.body and case.reference not in announcement.body

    submit()
    newest = db.session.scalar(select(Case).order_by(Case.id.desc()))
    assert db.session.scalar(select(KeyWrap.id).where(
        KeyWrap.case_id == newest.id, KeyWrap.staff_id == ion.id)) is not None
    assert sealed_to(ion) == 1  # the earlier case stays out of reach


def test_with_two_admins_the_other_admin_confirms(app, admin, admin_browser, make_handler,
                                                   sign_in):
    second = make_handler("Radu Admin", email="radu@baltati.example", roles=(Role.ADMIN,))
    handler = make_handler("Ana Popescu")
    link = invite_link(admin_browser, email="ion@baltati.example")
    activate(app, link)
    ion = member_by_email("ion@baltati.example")
    assert [m.recipient for m in mails("confirmation_needed")] == [second.email]
    # A handler cannot confirm while another admin can.
    with pytest.raises(DomainError):
        accounts.confirm(handler, ion.id)
    db.session.rollback()
    second_browser = sign_in(second)
    listing = second_browser.get("/staff/admin/").get_data(as_text=True)
    assert "waiting for confirmation" in listing and "Confirm account" in listing
    post_form(second_browser, f"/staff/admin/staff/{ion.id}/confirm", "/staff/admin/", {})
    assert member_by_email(ion.email).has_role(Role.HANDLER)
    assert [m.recipient for m in mails("new_reader")] == [handler.email]


def test_an_admin_cannot_make_themself_a_reader(app, admin, admin_browser):
    url = f"/staff/admin/staff/{admin.id}"
    for roles in (["admin", "handler"], ["admin", "custodian"]):
        response = post_form(admin_browser, f"{url}/roles", url, {"roles": roles})
        assert response.status_code == 400
        assert "You cannot give yourself a role that reads reports" in response.get_data(
            as_text=True)
        assert member_by_email(admin.email).roles == "admin"
    with pytest.raises(DomainError):
        accounts.change_roles(admin, admin.id, [Role.ADMIN, Role.HANDLER])


def test_a_reader_role_given_by_an_admin_waits_and_is_announced(
        app, admin, admin_browser, make_handler, sign_in, submit):
    """The admin gives the handler role to an account they might control: it counts only after
    someone else confirms it."""
    handler = make_handler("Ana Popescu")
    coordinator = make_handler("Dan Coordonator", roles=(Role.COORDINATOR,))
    url = f"/staff/admin/staff/{coordinator.id}"
    response = post_form(admin_browser, f"{url}/roles", url,
                         {"roles": ["coordinator", "handler"]})
    assert response.status_code == 302
    member = member_by_email(coordinator.email)
    assert member.awaiting_confirmation and member.proposed_by_staff_id == admin.id
    submit()
    assert sealed_to(member) == 0
    with pytest.raises(DomainError):
        accounts.confirm(admin, member.id)
    db.session.rollback()
    accounts.confirm(handler, member.id)
    db.session.commit()
    assert [m.recipient for m in mails("new_reader")] == [handler.email]
    # A role that grants no reading (coordinator) needs no confirmation.
    assert not member_by_email(handler.email).awaiting_confirmation


def test_a_new_admin_invited_by_the_only_admin_cannot_confirm_for_them(
        app, admin, admin_browser, make_handler):
    """The single admin invites a second admin they control, then a handler they control: the
    second admin's own account waits for confirmation, so it confirms nothing."""
    make_handler("Ana Popescu")
    activate(app, invite_link(admin_browser, email="puppet@baltati.example", roles=("admin",)))
    puppet = member_by_email("puppet@baltati.example")
    assert puppet.awaiting_confirmation and not puppet.has_role(Role.ADMIN)
    activate(app, invite_link(admin_browser, email="ion@baltati.example"))
    ion = member_by_email("ion@baltati.example")
    with pytest.raises(NotAuthorised):  # an unconfirmed admin role counts for nothing
        accounts.confirm(puppet, ion.id)


def test_the_recovery_code_confirms_and_its_grants_are_announced(
        app, institution, admin, admin_browser, make_handler, submit):
    handler = make_handler("Ana Popescu")
    submit()
    activate(app, invite_link(admin_browser, email="ion@baltati.example"))
    ion = member_by_email("ion@baltati.example")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["staff", "confirm", ion.email], input="0000\n")
    assert refused.exit_code != 0 and member_by_email(ion.email).awaiting_confirmation
    # An unconfirmed account gets nothing from the recovery code either.
    with pytest.raises(DomainError):
        recovery.grant_all(institution, member_by_email(ion.email),
                           recovery.recovery_key(institution, institution.recovery_code))
    db.session.rollback()
    result = runner.invoke(args=["staff", "confirm", ion.email],
                           input=institution.recovery_code + "\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["recovery", "grant", ion.email],
                           input=institution.recovery_code + "\n")
    assert result.exit_code == 0 and "Cases granted to ion@baltati.example: 1" in result.output
    announced = mails("new_reader")
    assert [m.recipient for m in announced] == [handler.email, handler.email]
    assert "codul de recuperare" in announced[1].body  # mail speaks Romanian


def test_the_activation_form_still_enrols_totp(app, admin_browser):
    """Unchanged behaviour after the key derivation moved to app_key: the enrolment field
    opens, and a forged one does not."""
    link = invite_link(admin_browser)
    browser = app.test_client()
    path = link.removeprefix(app.config["PUBLIC_URL"])
    html = browser.get(path).get_data(as_text=True)
    secret = secret_from(html)
    response = browser.post(path, data={
        "csrf_token": CSRF_RE.search(html).group(1),
        "enrolment": ENROLMENT_RE.search(html).group(1), "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD, "code": totp.code_at(secret, time.time())})
    assert response.status_code == 302


def test_a_password_reset_by_recovery_code_is_announced(app, institution, make_handler,
                                                        submit):
    ana = make_handler("Ana Popescu")
    ion = make_handler("Ion Ionescu", email="ion@baltati.example")
    submit()
    result = app.test_cli_runner().invoke(
        args=["staff", "reset-password", ion.email],
        input=f"{institution.recovery_code}\no parolă nouă și lungă\n")
    assert result.exit_code == 0, result.output
    assert [m.recipient for m in mails("new_reader")] == [ana.email]

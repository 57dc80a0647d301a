"""The administrator's pages through the real forms (CSRF on): invitations and activation with
a password and TOTP, roles, deactivation, unlocking, settings, the audit log, and the role
check on every administration route."""
import base64
import hashlib
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.admin.routes import STATE_ACTIONS
from app.extensions import db
from app.models import (
    AuditEntry,
    Case,
    Institution,
    Invitation,
    OutboxMail,
    Role,
    StaffAccount,
    StaffMember,
    StaffSession,
)
from app.models.types import utcnow
from app.services.operations import notify
from app.services.staff import totp
from app.services.staff.members import unlock_private_key
from tests.conftest import CSRF_RE, TOTP_SECRET_RE, csrf_token, report_fields

LINK_RE = re.compile(r'id="activation-link"[^>]*>([^<]+)<')
ENROLMENT_RE = re.compile(r'name="enrolment" type="hidden" value="([^"]+)"')
NEW_PASSWORD = "o parolă lungă și bună"


def post_form(client, url, page_url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page_url)})


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def invite(browser, name="Ion Ionescu", email="ion@baltati.example", roles=("handler",)):
    return post_form(browser, "/staff/admin/invite", "/staff/admin/invite",
                     {"name": name, "email": email, "roles": list(roles)})


def invite_link(browser, **kwargs) -> str:
    response = invite(browser, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return LINK_RE.search(response.get_data(as_text=True)).group(1)


def secret_from(page: str) -> bytes:
    text = TOTP_SECRET_RE.search(page).group(1).replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def activate(app, link: str, password=NEW_PASSWORD, confirm=None, code=None, enrolment=None):
    """Open the link in a new browser and submit the activation form; returns
    (response, TOTP secret shown on the page)."""
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    path = link.removeprefix(app.config["PUBLIC_URL"])
    page = browser.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    secret = secret_from(html)
    response = browser.post(path, data={
        "csrf_token": CSRF_RE.search(html).group(1),
        "enrolment": enrolment if enrolment is not None else ENROLMENT_RE.search(html).group(1),
        "password": password, "confirm": password if confirm is None else confirm,
        "code": code if code is not None else totp.code_at(secret, time.time())})
    return response, secret


def test_invitation_activation_and_first_sign_in(app, client, institution, admin, admin_browser,
                                                 sign_in):
    response = invite(admin_browser, name="Ion Ionescu", email="Ion@Baltati.example",
                      roles=("handler", "coordinator"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    link = LINK_RE.search(page).group(1)
    token = link.rsplit("/", 1)[1]
    assert link == f"{app.config['PUBLIC_URL']}/staff/activate/{token}"
    assert "flask --app wsgi recovery grant ion@baltati.example" in page

    invitation = db.session.scalar(select(Invitation))
    assert invitation.email == "ion@baltati.example"
    assert invitation.roles == "handler,coordinator"
    assert invitation.token_hash == hashlib.sha256(token.encode()).digest()
    assert invitation.expires_at - invitation.created_at == timedelta(hours=72)
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.kind == "invitation"))
    assert mail.recipient == "ion@baltati.example" and token not in mail.body
    assert notify.open_parts(mail.id, mail.kind, mail.sealed)["body"].count(link) == 1
    listing = admin_browser.get("/staff/admin/").get_data(as_text=True)
    assert "ion@baltati.example" in listing and "Pending invitations" in listing

    # The activation page says who is invited; the TOTP secret is never in a URL or cookie.
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = browser.get(f"/staff/activate/{token}").get_data(as_text=True)
    assert "Ion Ionescu" in html and "ion@baltati.example" in html and "<svg" in html
    secret = secret_from(html)
    enrolment = ENROLMENT_RE.search(html).group(1)
    assert base64.b32encode(secret).decode().rstrip("=") not in enrolment
    assert not any(base64.b32encode(secret).decode().rstrip("=") in cookie.value
                   for cookie in browser._cookies.values())

    def submit(**fields):
        data = {"csrf_token": CSRF_RE.search(html).group(1), "enrolment": enrolment,
                "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                "code": totp.code_at(secret, time.time())}
        data.update(fields)
        return browser.post(f"/staff/activate/{token}", data=data)

    # Mistakes are explained per field, the same secret stays on the page, nothing is saved.
    response = submit(password="scurtă", confirm="scurtă")
    assert response.status_code == 400
    assert "Use between 12 and 1000 characters." in response.get_data(as_text=True)
    assert secret_from(response.get_data(as_text=True)) == secret
    response = submit(confirm="alta parola lunga")
    assert "The two passwords are not the same." in response.get_data(as_text=True)
    response = submit(code="000000" if totp.code_at(secret, time.time()) != "000000"
                      else "111111")
    assert response.status_code == 400 and "The code is not right." in response.get_data(
        as_text=True)
    assert db.session.scalar(select(func.count(StaffMember.id))) == 1
    assert fresh(Invitation, invitation.id).used_at is None

    response = submit()
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/login")
    member = db.session.scalar(select(StaffMember).join(StaffMember.account).where(
        StaffAccount.email == "ion@baltati.example"))
    assert member.role_list == [Role.HANDLER, Role.COORDINATOR] and member.active
    assert unlock_private_key(member, NEW_PASSWORD) is not None
    assert member.account.totp_secret is not None and member.account.totp_last_step is not None
    assert totp.open_secret(app.config["SECRET_KEY"], member.account_id,
                            member.account.totp_secret) == secret
    assert fresh(Invitation, invitation.id).used_at is not None
    assert "staff_activated" in actions()

    # The new member signs in with the next code (the one used to activate cannot be replayed);
    # the handler role starts only once a second person confirms it (here, with a single
    # administrator who invited them and no handler yet: the recovery code).
    assert member.awaiting_confirmation and not member.has_role(Role.HANDLER)
    member.password, member.totp_secret_raw, member.sign_ins = NEW_PASSWORD, secret, 1
    staff = sign_in(member)
    assert staff.get("/staff/cases").status_code == 403
    result = app.test_cli_runner().invoke(args=["staff", "confirm", member.email],
                                          input=institution.recovery_code + "\n")
    assert result.exit_code == 0, result.output
    assert staff.get("/staff/cases").status_code == 200

    # A used link cannot be replayed.
    again = submit()
    assert again.status_code == 404
    assert "This activation link cannot be used" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(StaffMember.id))) == 2


def test_expired_used_and_unknown_links_get_one_clear_message(app, admin_browser):
    link = invite_link(admin_browser)
    response, _ = activate(app, link)
    assert response.status_code == 302
    used = app.test_client().get(link.removeprefix(app.config["PUBLIC_URL"]))

    expired_link = invite_link(admin_browser, email="vasile@baltati.example")
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.email == "vasile@baltati.example"))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    expired = app.test_client().get(expired_link.removeprefix(app.config["PUBLIC_URL"]))
    unknown = app.test_client().get("/staff/activate/" + "x" * 43)
    too_long = app.test_client().get("/staff/activate/" + "x" * 500)
    for response in (used, expired, unknown, too_long):
        assert response.status_code == 404
        assert "This activation link cannot be used" in response.get_data(as_text=True)
    # Posting to an expired link creates nothing either.
    response = app.test_client().post(expired_link.removeprefix(app.config["PUBLIC_URL"]),
                                      data={"password": NEW_PASSWORD})
    assert response.status_code in (400, 404)
    assert db.session.scalar(select(func.count(StaffAccount.id)).where(
        StaffAccount.email == "vasile@baltati.example")) == 0


def test_a_tampered_enrolment_field_is_refused_and_a_new_key_shown(app, admin_browser):
    link = invite_link(admin_browser)
    other_link = invite_link(admin_browser, email="alt@baltati.example")
    # The sealed secret of another invitation does not open for this one.
    other_page = app.test_client().get(other_link.removeprefix(app.config["PUBLIC_URL"]))
    foreign = ENROLMENT_RE.search(other_page.get_data(as_text=True)).group(1)
    for enrolment in (foreign, "AAAA", ""):
        response, secret = activate(app, link, enrolment=enrolment)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "The key was not received intact." in html
        assert secret_from(html) != secret
    assert db.session.scalar(select(func.count(StaffMember.id))) == 1


def test_duplicate_invitations_and_existing_accounts_are_refused(admin, admin_browser,
                                                                 make_handler):
    assert invite(admin_browser, email="ion@baltati.example").status_code == 200
    again = invite(admin_browser, email="ION@baltati.example")
    assert again.status_code == 400
    assert "ion@baltati.example already has a pending invitation" in again.get_data(
        as_text=True)
    existing = invite(admin_browser, email="admin@baltati.example")
    assert existing.status_code == 400
    assert "admin@baltati.example already has an account." in existing.get_data(as_text=True)
    missing = post_form(admin_browser, "/staff/admin/invite", "/staff/admin/invite",
                        {"name": "", "email": "not an address"})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 400
    for message in ("Please enter the person",
                    "This does not look like an e-mail address.", "Choose at least one role."):
        assert message in html
    assert db.session.scalar(select(func.count(Invitation.id))) == 1

    # A cancelled invitation frees the address for a new one; its link stops working.
    invitation = db.session.scalar(select(Invitation))
    response = post_form(admin_browser, f"/staff/admin/invitations/{invitation.id}/cancel",
                         "/staff/admin/", {})
    assert response.status_code == 302
    assert invite(admin_browser, email="ion@baltati.example").status_code == 200
    assert "invitation_cancelled" in actions()


def test_roles_change_and_the_admin_keeps_their_own_role(admin, admin_browser, make_handler):
    member = make_handler("Ana Popescu")
    url = f"/staff/admin/staff/{member.id}"
    response = post_form(admin_browser, f"{url}/roles", url,
                         {"roles": ["handler", "custodian"]})
    assert response.status_code == 302
    assert fresh(StaffMember, member.id).role_list == [Role.HANDLER, Role.CUSTODIAN]
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "staff_roles_changed"))
    assert '"old": ["handler"]' in entry.detail and '"new": ["handler", "custodian"]' in \
        entry.detail and entry.actor_staff_id == admin.id

    none = post_form(admin_browser, f"{url}/roles", url, {})
    assert none.status_code == 400 and "Choose at least one role." in none.get_data(
        as_text=True)
    own = f"/staff/admin/staff/{admin.id}"
    refused = post_form(admin_browser, f"{own}/roles", own, {"roles": ["handler"]})
    assert refused.status_code == 400
    assert "You cannot remove your own administrator role" in refused.get_data(as_text=True)
    assert fresh(StaffMember, admin.id).role_list == [Role.ADMIN]
    assert admin_browser.get("/staff/admin/staff/999999").status_code == 404


def test_deactivation_ends_sessions_and_blocks_sign_in(client, admin, admin_browser,
                                                       make_handler, sign_in):
    member = make_handler("Ana Popescu")
    staff = sign_in(member)
    assert staff.get("/staff/cases").status_code == 200
    url = f"/staff/admin/staff/{member.id}"
    response = post_form(admin_browser, f"{url}/deactivate", url, {})
    assert response.status_code == 302
    assert "The account is deactivated" in admin_browser.get(url).get_data(as_text=True)
    assert fresh(StaffMember, member.id).active is False
    assert db.session.scalar(select(func.count(StaffSession.id)).where(
        StaffSession.staff_id == member.id)) == 0
    kicked_out = staff.get("/staff/cases")
    assert kicked_out.status_code == 302 and "/staff/login" in kicked_out.headers["Location"]
    login = post_form(client, "/staff/login", "/staff/login",
                      {"email": member.email, "password": member.password})
    assert login.status_code == 400

    response = post_form(admin_browser, f"{url}/reactivate", url, {})
    assert response.status_code == 302 and fresh(StaffMember, member.id).active
    assert sign_in(member).get("/staff/cases").status_code == 200
    assert {"staff_deactivated", "staff_reactivated"} <= set(actions())


def test_the_last_admin_cannot_be_removed(admin, admin_browser, make_handler):
    own = f"/staff/admin/staff/{admin.id}"
    response = post_form(admin_browser, f"{own}/deactivate", own, {})
    assert "You cannot deactivate your own account." in admin_browser.get(
        response.headers["Location"]).get_data(as_text=True)
    assert fresh(StaffMember, admin.id).active

    # With a second administrator, either may deactivate the other, never themselves.
    second = make_handler("Dan Admin", roles=(Role.ADMIN,))
    url = f"/staff/admin/staff/{second.id}"
    assert post_form(admin_browser, f"{url}/deactivate", url, {}).status_code == 302
    assert fresh(StaffMember, second.id).active is False
    # A deactivated administrator does not count: the remaining one keeps their role.
    refused = post_form(admin_browser, f"{own}/roles", own, {"roles": ["coordinator"]})
    assert refused.status_code == 400
    active_admins = [m for m in db.session.scalars(select(StaffMember).where(
        StaffMember.active.is_(True))) if m.has_role(Role.ADMIN)]
    assert [m.id for m in active_admins] == [admin.id]


def test_locked_account_is_unlocked_by_the_admin(client, admin, admin_browser, make_handler,
                                                sign_in):
    member = make_handler("Ana Popescu")
    for _ in range(5):
        post_form(client, "/staff/login", "/staff/login",
                  {"email": member.email, "password": "not the password at all"})
    assert fresh(StaffMember, member.id).account.locked_until > utcnow()
    assert "locked" in admin_browser.get("/staff/admin/").get_data(as_text=True)
    url = f"/staff/admin/staff/{member.id}"
    assert post_form(admin_browser, f"{url}/unlock", url, {}).status_code == 302
    assert fresh(StaffMember, member.id).account.locked_until is None
    assert sign_in(member).get("/staff/cases").status_code == 200
    assert "staff_unlocked" in actions()


SETTINGS_URL = "/staff/admin/settings"


def settings_fields(**overrides) -> dict:
    fields = {"identity_policy": "direct", "retention_years": "5",
              "acknowledge_reminder_days": "2", "answer_reminder_days": "14",
              "mail_sender": "", "categories": ["bribery", "conflict_of_interest", "other"]}
    fields.update(overrides)
    return fields


@pytest.mark.parametrize(("overrides", "field_error"), [
    ({"retention_years": "0"}, "Choose a whole number from 1 to 30."),
    ({"retention_years": "31"}, "Choose a whole number from 1 to 30."),
    ({"retention_years": "cinci"}, "Choose a whole number from 1 to 30."),
    ({"acknowledge_reminder_days": "8"}, "Choose a whole number from 1 to 7."),
    ({"answer_reminder_days": "0"}, "Choose a whole number from 1 to 60."),
    ({"mail_sender": "not an address"}, "This does not look like an e-mail address."),
    ({"categories": []}, "Keep at least one category on the report form."),
    ({"identity_policy": "custodian"}, "No active staff member holds the custodian role"),
    ({"identity_policy": "everyone"}, "Not a valid choice"),
    ({"siruta_code": "17912a"}, "The SIRUTA code has digits only, at most 6."),
    ({"siruta_code": "1791234"}, "The SIRUTA code has digits only, at most 6."),
    ({"cui": "RO1"}, "The CUI has 2 to 10 digits, optionally after the RO prefix."),
    ({"cui": "12345678901"}, "The CUI has 2 to 10 digits, optionally after the RO prefix."),
    ({"cui": "DE4305782"}, "The CUI has 2 to 10 digits, optionally after the RO prefix."),
])
def test_settings_errors_are_shown_and_nothing_is_saved(institution, admin_browser, overrides,
                                                        field_error):
    response = post_form(admin_browser, SETTINGS_URL, SETTINGS_URL, settings_fields(**overrides))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error in html and "Nothing has been saved." in html
    saved = fresh(Institution, institution.id)
    assert (saved.retention_years, saved.disabled_categories, saved.identity_policy) == \
        (5, "", "direct")
    assert "settings_changed" not in actions()


def test_settings_are_saved_and_audited_with_old_and_new_values(institution, admin_browser,
                                                                make_handler):
    make_handler("Elena Custode", roles=(Role.CUSTODIAN,))
    page = admin_browser.get(SETTINGS_URL).get_data(as_text=True)
    assert 'value="5"' in page and re.search(r'<input checked[^>]*value="bribery"', page)
    response = post_form(admin_browser, SETTINGS_URL, SETTINGS_URL, settings_fields(
        identity_policy="custodian", retention_years="7", acknowledge_reminder_days="3",
        answer_reminder_days="20", mail_sender="avertizor@baltati.example"))
    assert response.status_code == 302
    saved = fresh(Institution, institution.id)
    assert saved.identity_policy == "custodian" and saved.retention_years == 7
    assert (saved.acknowledge_reminder_days, saved.answer_reminder_days) == (3, 20)
    assert saved.mail_sender == "avertizor@baltati.example"
    assert set(saved.disabled_categories.split(",")) == {
        "abuse_of_office", "public_procurement", "misuse_of_funds", "favouritism_in_hiring",
        "incompatibility"}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings_changed"))
    assert '"retention_years": {"new": 7, "old": 5}' in entry.detail
    assert '"identity_policy": {"new": "custodian", "old": "direct"}' in entry.detail
    assert '"mail_sender": {"new": "avertizor@baltati.example", "old": null}' in entry.detail
    # Saving the same values again changes nothing and records nothing.
    post_form(admin_browser, SETTINGS_URL, SETTINGS_URL, settings_fields(
        identity_policy="custodian", retention_years="7", acknowledge_reminder_days="3",
        answer_reminder_days="20", mail_sender="avertizor@baltati.example"))
    assert actions().count("settings_changed") == 1


def test_siruta_code_and_cui_are_set_through_the_settings_form(institution, admin_browser):
    """The identifiers the open data carries: typed by the admin, the CUI kept as its digits."""
    response = post_form(admin_browser, SETTINGS_URL, SETTINGS_URL, settings_fields(
        siruta_code=" 17912 ", cui="ro 4305782"))
    assert response.status_code == 302
    saved = fresh(Institution, institution.id)
    assert (saved.siruta_code, saved.cui) == ("17912", "4305782")
    page = admin_browser.get(SETTINGS_URL).get_data(as_text=True)
    assert 'value="17912"' in page and 'value="4305782"' in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings_changed"))
    assert '"cui": {"new": "4305782", "old": null}' in entry.detail
    # Emptied again: the open data then carries no identifier (not an empty string).
    assert post_form(admin_browser, SETTINGS_URL, SETTINGS_URL,
                     settings_fields(siruta_code="", cui="")).status_code == 302
    saved = fresh(Institution, institution.id)
    assert (saved.siruta_code, saved.cui) == (None, None)
    # In Romanian, the refusal is translated.
    admin_browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ro"
    refused = post_form(admin_browser, SETTINGS_URL, SETTINGS_URL,
                        settings_fields(cui="RO-12"))
    assert refused.status_code == 400
    assert "CUI-ul are între 2 și 10 cifre" in refused.get_data(as_text=True)


def test_a_disabled_category_leaves_the_report_form(client, institution, admin_browser):
    assert 'value="bribery"' in client.get("/report").get_data(as_text=True)
    everything_but_bribery = [c for c in ("conflict_of_interest", "abuse_of_office",
                                          "public_procurement", "misuse_of_funds",
                                          "favouritism_in_hiring", "incompatibility", "other")]
    response = post_form(admin_browser, SETTINGS_URL, SETTINGS_URL,
                         settings_fields(categories=everything_but_bribery))
    assert response.status_code == 302
    form = client.get("/report").get_data(as_text=True)
    assert 'value="bribery"' not in form and 'value="conflict_of_interest"' in form

    refused = client.post("/report", data={**report_fields(category="bribery"),
                                           "csrf_token": csrf_token(client, "/report")})
    assert refused.status_code == 400
    assert db.session.scalar(select(func.count(Case.id))) == 0
    accepted = client.post("/report", data={**report_fields(category="conflict_of_interest"),
                                            "csrf_token": csrf_token(client, "/report")})
    assert accepted.status_code == 200
    assert db.session.scalar(select(func.count(Case.id))) == 1


def test_audit_log_page_shows_the_chain_verdict_and_filters(admin, admin_browser):
    for email in ("a@baltati.example", "b@baltati.example"):
        invite(admin_browser, email=email)
    page = admin_browser.get("/staff/admin/audit").get_data(as_text=True)
    count = db.session.scalar(select(func.count(AuditEntry.id)))
    assert f"Audit chain intact: {count} entries checked." in page
    seqs = [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", page)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == count
    filtered = admin_browser.get("/staff/admin/audit?action=staff_invited").get_data(
        as_text=True)
    assert filtered.count("<code>staff_invited</code>") == 2
    assert "<code>sign_in</code>" not in filtered

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff_invited"))
    entry.detail = '{"email": "someone.else@example.com"}'
    db.session.commit()
    broken = admin_browser.get("/staff/admin/audit").get_data(as_text=True)
    assert f"The audit chain is broken at entry {entry.seq}" in broken


def test_audit_log_is_paginated(admin, admin_browser):
    from app.services.audit import chain as audit

    for n in range(60):
        audit.record("test_entry", institution_id=admin.institution_id, detail={"n": n})
    db.session.commit()
    first = admin_browser.get("/staff/admin/audit").get_data(as_text=True)
    assert "Page 1 of 2" in first and "n: 59</td>" in first
    second = admin_browser.get("/staff/admin/audit?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and "n: 0</td>" in second


def test_every_admin_action_is_audited(app, admin, admin_browser, make_handler):
    make_handler("Elena Custode", roles=(Role.CUSTODIAN,))
    member = make_handler("Ana Popescu")
    url = f"/staff/admin/staff/{member.id}"
    link = invite_link(admin_browser)
    activate(app, link)
    cancelled = invite_link(admin_browser, email="x@baltati.example")
    assert cancelled
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.email == "x@baltati.example"))
    post_form(admin_browser, f"/staff/admin/invitations/{invitation.id}/cancel",
              "/staff/admin/", {})
    post_form(admin_browser, f"{url}/roles", url, {"roles": ["handler", "coordinator"]})
    fresh(StaffMember, member.id).account.failed_logins = 3
    db.session.commit()
    post_form(admin_browser, f"{url}/unlock", url, {})
    post_form(admin_browser, f"{url}/deactivate", url, {})
    post_form(admin_browser, f"{url}/reactivate", url, {})
    post_form(admin_browser, SETTINGS_URL, SETTINGS_URL,
              settings_fields(retention_years="10"))
    done = actions()
    for expected in ("staff_invited", "staff_activated", "invitation_cancelled",
                     "staff_roles_changed", "staff_unlocked", "staff_deactivated",
                     "staff_reactivated", "settings_changed"):
        assert expected in done, expected


def test_the_admin_never_sees_case_content(admin, admin_browser, submit):
    submit(what_happened="Primarul a cerut bani pentru autorizație", name="Gheorghe Secret",
           email="gheorghe@example.com", identity_choice="identified")
    case = db.session.scalar(select(Case))
    for url in ("/staff/admin/", "/staff/admin/settings", "/staff/admin/audit",
                f"/staff/admin/staff/{admin.id}"):
        html = admin_browser.get(url).get_data(as_text=True)
        assert "Primarul" not in html and "Gheorghe" not in html and "gheorghe@" not in html
    assert admin_browser.get(f"/staff/cases/{case.id}").status_code == 403


# Handlers may open these too: they confirm new colleagues where there is a single admin.
CONFIRMATION_ENDPOINTS = {"admin.confirmations", "admin.confirm_member"}


def admin_routes(app, member_id: int, invitation_id: int,
                 skip=frozenset()) -> list[tuple[str, str]]:
    """Every administration route with its methods, filled with real ids (activation aside:
    it is the one page an invited person opens without signing in)."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint == "admin.activate" \
                or rule.endpoint in skip:
            continue
        for action in (STATE_ACTIONS if "action" in rule.arguments else [None]):
            values = {"member_id": member_id, "invitation_id": invitation_id, "action": action}
            path = rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((method, path))
    return routes


@pytest.mark.parametrize("role", [Role.HANDLER, Role.COORDINATOR, Role.CUSTODIAN])
def test_other_roles_get_403_on_every_admin_route(app, admin, admin_browser, make_handler,
                                                 sign_in, role):
    invite(admin_browser)
    invitation = db.session.scalar(select(Invitation))
    member = make_handler("Ana Popescu", roles=(role,))
    staff = sign_in(member)
    nav = staff.get("/staff/password").get_data(as_text=True)
    assert 'href="/staff/admin/"' not in nav
    token = csrf_token(staff, "/staff/password")
    skip = CONFIRMATION_ENDPOINTS if role == Role.HANDLER else frozenset()
    routes = admin_routes(app, admin.id, invitation.id, skip)
    assert len(routes) == (14 if skip else 16)
    before = db.session.scalar(select(func.count(AuditEntry.id)))
    for method, path in routes:
        if method == "GET":
            response = staff.get(path)
        else:
            response = staff.post(path, data={"csrf_token": token, "roles": ["handler"],
                                              "retention_years": "9", "name": "X",
                                              "email": "x@baltati.example"})
        assert response.status_code == 403, (method, path, response.status_code)
    assert db.session.scalar(select(func.count(AuditEntry.id))) == before
    assert fresh(StaffMember, admin.id).active and fresh(Invitation, invitation.id).used_at \
        is None
    assert 'href="/staff/admin/"' in admin_browser.get("/staff/password").get_data(
        as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(app, client, admin, admin_browser):
    invite(admin_browser)
    invitation = db.session.scalar(select(Invitation))
    token = csrf_token(client, "/staff/login")
    for method, path in admin_routes(app, admin.id, invitation.id):
        response = client.get(path) if method == "GET" else client.post(
            path, data={"csrf_token": token})
        assert response.status_code == 302, (method, path)
        assert "/staff/login" in response.headers["Location"]


def test_admin_pages_render_in_romanian_by_default(app, admin, admin_browser, make_handler):
    member = make_handler("Ana Popescu")
    invite(admin_browser)
    admin_browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ro"
    for url in ("/staff/admin/", "/staff/admin/invite", f"/staff/admin/staff/{member.id}",
                "/staff/admin/settings", "/staff/admin/audit"):
        response = admin_browser.get(url)
        assert response.status_code == 200, url
        assert '<html lang="ro">' in response.get_data(as_text=True)
    link = invite_link(admin_browser, email="nou@baltati.example")
    invitee = app.test_client()
    invitee.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)  # no preference: Romanian
    page = invitee.get(link.removeprefix(app.config["PUBLIC_URL"]))
    assert page.status_code == 200 and '<html lang="ro">' in page.get_data(as_text=True)

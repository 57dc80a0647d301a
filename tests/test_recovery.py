"""The institution's recovery code, through the real commands: `recovery grant` gives a new
handler the existing cases (never one a reporter excluded them from), and `staff reset-password`
gives a member who lost their password a new key and their cases back."""
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import force_locale
from sqlalchemy import func, select

from app.crypto import envelope, keys
from app.extensions import db
from app.models import AuditEntry, Case, KeyWrap, Role, StaffMember, StaffSession
from app.services.access import keys as access
from app.services.errors import NotAuthorised
from app.services.staff.members import unlock_private_key
from tests.conftest import csrf_token

NEW_PASSWORD = "parola nouă, după ce am uitat-o"


def grant(app, email: str, code: str):
    """`flask recovery grant`, its messages in English (a command speaks Romanian)."""
    with force_locale("en"):
        return app.test_cli_runner().invoke(args=["recovery", "grant", email],
                                            input=code + "\n")


def reset(app, email: str, code: str, password: str = NEW_PASSWORD):
    with force_locale("en"):
        return app.test_cli_runner().invoke(args=["staff", "reset-password", email],
                                            input=f"{code}\n{password}\n")


def report_text(case: Case, member: StaffMember, password: str) -> str:
    private_key = unlock_private_key(member, password)
    assert private_key is not None
    case_key = access.open_case_key(case, member, private_key)
    return envelope.open_report(case_key, case.uuid, case.content)["what_happened"]


def wraps_of(member: StaffMember) -> int:
    return db.session.scalar(select(func.count(KeyWrap.id)).where(
        KeyWrap.staff_id == member.id))


def audit_count() -> int:
    return db.session.scalar(select(func.count(AuditEntry.id)))


def test_grant_lets_a_new_handler_open_earlier_reports(app, institution, submit, make_handler,
                                                       sign_in):
    first = make_handler("Ana Popescu")
    submit(what_happened="Mită la urbanism")
    submit(what_happened="Conflict de interese la achiziții", identity_choice="identified",
           name="Ion Martor", email="ion@example.com")
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    newcomer = make_handler("Radu Nou")
    with pytest.raises(NotAuthorised):
        access.open_case_key(cases[0], newcomer, unlock_private_key(newcomer,
                                                                    newcomer.password))

    result = grant(app, newcomer.email, institution.recovery_code)
    assert result.exit_code == 0, result.output
    assert "Cases granted to" in result.output and ": 2" in result.output
    assert "excluded this person): 0" in result.output
    assert report_text(cases[0], newcomer, newcomer.password) == "Mită la urbanism"
    assert report_text(cases[1], first, first.password) == \
        report_text(cases[1], newcomer, newcomer.password)
    # Identity policy `direct`: the identity key too, for the case that has an identity.
    assert access.holds_identity_key(cases[1], newcomer)
    granted = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "access_granted_by_recovery")).all()
    assert sorted(entry.case_id for entry in granted) == [cases[0].id, cases[1].id]
    assert all(json.loads(entry.detail)["to"] == newcomer.id for entry in granted)

    # Through the back office as well.
    staff = sign_in(newcomer)
    assert "Mită la urbanism" in staff.get(f"/staff/cases/{cases[0].id}").get_data(
        as_text=True)

    # Running it again grants nothing new and records nothing.
    before = audit_count()
    again = grant(app, newcomer.email, institution.recovery_code)
    assert again.exit_code == 0 and "Already held: 2" in again.output
    assert audit_count() == before


def test_policy_custodian_grants_the_case_key_only(app, institution, submit, make_handler):
    institution.identity_policy = "custodian"
    db.session.commit()
    submit(identity_choice="identified", name="Ion Martor", email="ion@example.com")
    case = db.session.scalar(select(Case))
    newcomer = make_handler("Radu Nou")
    assert grant(app, newcomer.email, institution.recovery_code).exit_code == 0
    assert report_text(case, newcomer, newcomer.password)
    assert not access.holds_identity_key(case, newcomer)


@pytest.mark.parametrize("code", [
    keys.recovery_code(X25519PrivateKey.generate()),  # well formed, another institution's
    "ABCD-EFGH",
    "",
])
def test_a_wrong_code_is_refused_without_changes(app, institution, submit, make_handler, code):
    submit()
    newcomer = make_handler("Radu Nou")
    wraps, entries = db.session.scalar(select(func.count(KeyWrap.id))), audit_count()
    result = grant(app, newcomer.email, code)
    assert result.exit_code != 0
    assert "recovery code" in result.output  # "This is not the institution's recovery code."
    assert db.session.scalar(select(func.count(KeyWrap.id))) == wraps
    assert audit_count() == entries and wraps_of(newcomer) == 0


def test_grant_needs_an_active_handler(app, institution, make_handler):
    coordinator = make_handler("Coordonator", roles=(Role.COORDINATOR,))
    result = grant(app, coordinator.email, institution.recovery_code)
    assert result.exit_code != 0 and coordinator.email in result.output
    unknown = grant(app, "nobody@baltati.example", institution.recovery_code)
    assert unknown.exit_code != 0 and "nobody@baltati.example" in unknown.output


def test_an_excluded_handler_is_skipped(app, institution, submit, make_handler):
    excluded = make_handler("Vasile Exclus")
    make_handler("Ana Popescu")  # someone must remain able to read it (see intake)
    submit(what_happened="Despre Vasile", excluded=str(excluded.id))
    submit(what_happened="Altceva")
    excluded_case, other_case = db.session.scalars(select(Case).order_by(Case.id)).all()
    assert not access.holds_identity_key(excluded_case, excluded)
    assert db.session.scalar(select(func.count(KeyWrap.id)).where(
        KeyWrap.case_id == excluded_case.id, KeyWrap.staff_id == excluded.id)) == 0

    result = grant(app, excluded.email, institution.recovery_code)
    assert result.exit_code == 0, result.output
    assert "excluded this person): 1" in result.output
    with pytest.raises(NotAuthorised):
        access.open_case_key(excluded_case, excluded,
                             unlock_private_key(excluded, excluded.password))
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "access_granted_by_recovery",
        AuditEntry.case_id == excluded_case.id)) == 0
    assert report_text(other_case, excluded, excluded.password) == "Altceva"


def sign_in_form(app, email: str, password: str):
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return browser.post("/staff/login", data={"email": email, "password": password,
                                              "csrf_token": csrf_token(browser, "/staff/login")})


def test_reset_password_gives_a_new_key_and_the_cases_back(app, institution, submit,
                                                           make_handler, sign_in):
    member = make_handler("Ana Popescu")
    colleague = make_handler("Dan Coleg")
    submit(what_happened="Prima sesizare", identity_choice="identified", name="Ion Martor",
           email="ion@example.com")
    submit(what_happened="A doua sesizare")
    first, second = db.session.scalars(select(Case).order_by(Case.id)).all()
    # A colleague revoked Ana's access to the second case: the reset must not undo that.
    db.session.execute(KeyWrap.__table__.delete().where(
        KeyWrap.case_id == second.id, KeyWrap.staff_id == member.id))
    db.session.commit()
    old_public_key, old_password = member.public_key, member.password
    old_browser = sign_in(member)
    assert old_browser.get("/staff/cases").status_code == 200

    result = reset(app, member.email, institution.recovery_code)
    assert result.exit_code == 0, result.output
    assert "cases restored: 1" in result.output
    db.session.expire_all()
    member = db.session.get(StaffMember, member.id)
    assert member.public_key != old_public_key
    assert unlock_private_key(member, old_password) is None
    assert report_text(first, member, NEW_PASSWORD) == "Prima sesizare"
    assert access.holds_identity_key(first, member)
    with pytest.raises(NotAuthorised):
        access.open_case_key(second, member, unlock_private_key(member, NEW_PASSWORD))
    assert report_text(second, colleague, colleague.password) == "A doua sesizare"
    # Second factor cleared, every session ended, everything audited.
    assert member.account.totp_secret is None and member.account.totp_last_step is None
    assert db.session.scalar(select(func.count(StaffSession.id)).where(
        StaffSession.staff_id == member.id)) == 0
    assert old_browser.get("/staff/cases").status_code == 302
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "password_reset_by_recovery" in actions and "access_granted_by_recovery" in actions

    # The old password no longer works; the new one does, with a fresh TOTP enrolment.
    assert sign_in_form(app, member.email, old_password).status_code == 400
    member.password = NEW_PASSWORD
    staff = sign_in(member)
    page = staff.get(f"/staff/cases/{first.id}").get_data(as_text=True)
    assert "Prima sesizare" in page
    assert staff.get(f"/staff/cases/{second.id}").status_code == 403


def test_reset_password_refuses_a_wrong_code_or_a_short_password(app, institution, submit,
                                                                 make_handler):
    member = make_handler("Ana Popescu")
    password = member.password
    submit()
    before = (member.public_key, member.account.wrapped_private_key, wraps_of(member),
              audit_count())
    wrong = reset(app, member.email, keys.recovery_code(X25519PrivateKey.generate()))
    assert wrong.exit_code != 0 and "recovery code" in wrong.output
    short = reset(app, member.email, institution.recovery_code, password="scurtă")
    assert short.exit_code != 0 and "12" in short.output
    db.session.expire_all()
    member = db.session.get(StaffMember, member.id)
    assert (member.public_key, member.account.wrapped_private_key, wraps_of(member),
            audit_count()) == before
    assert unlock_private_key(member, password) is not None

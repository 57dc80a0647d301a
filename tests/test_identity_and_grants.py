"""The reporter's identity and who holds a case's keys, through the real back-office forms.

Policy `direct`: handlers hold the identity key; a reveal needs a written reason (audited).
Policy `custodian`: only custodians hold it; a handler asks, a custodian decides.
Grants and revokes re-seal or delete key wraps, and each is audited."""
import json
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEntry,
    Case,
    IdentityRequest,
    Institution,
    KeyKind,
    KeyWrap,
    Regime,
    RequestStatus,
    Role,
    StaffMember,
)
from app.services.access import grants, identity
from app.services.access.grants import GrantRefused
from app.services.access.opened import open_case
from app.services.casework import workflow
from app.services.errors import NotAuthorised
from app.services.operations.institutions import create_institution
from app.services.staff import members as staff_service
from app.services.transaction import unit_of_work
from tests.conftest import csrf_token
from tests.support.staff import signed_in_access

NAME, EMAIL, PHONE = "Maria Ionescu-Reporter", "maria.reporter@example.org", "+40 744 123 456"


def identified_report(submit, **extra) -> Case:
    response, _ = submit(identity_choice="identified", name=NAME, email=EMAIL, phone=PHONE,
                         **extra)
    assert response.status_code == 200
    return db.session.scalar(select(Case).order_by(Case.id.desc()))


def post(client, url, page_url, data):
    """A form post with the session's CSRF token (taken from the password page, which every
    signed-in staff member may open, so refusals are tested with a valid token)."""
    token = csrf_token(client, "/staff/password")
    return client.post(url, data={**data, "csrf_token": token})


def reveal(client, case, reason):
    page_url = f"/staff/cases/{case.id}"
    return post(client, f"{page_url}/identity", page_url, {"reveal-reason": reason})


def audit_of(case, action) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.case_id == case.id, AuditEntry.action == action).order_by(AuditEntry.seq)))


def shows_identity(page: str) -> bool:
    return NAME in page or EMAIL in page or "744 123 456" in page


def holds(member, case, kind=KeyKind.CASE) -> bool:
    db.session.expire_all()
    return db.session.scalar(select(KeyWrap.id).where(
        KeyWrap.case_id == case.id, KeyWrap.staff_id == member.id,
        KeyWrap.kind == kind)) is not None


# --- policy `direct` -----------------------------------------------------------------------

def test_direct_reveal_needs_a_reason_is_audited_and_shows_every_contact(
        submit, make_handler, sign_in):
    handler = make_handler("Ana Popescu")
    case = identified_report(submit)
    staff = sign_in(handler)

    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "identified (hidden)" in page and not shows_identity(page)

    for short in ("", "  ", "de ce", "123456789"):  # fewer than 10 characters
        response = reveal(staff, case, short)
        assert response.status_code == 400
        assert not shows_identity(response.get_data(as_text=True))
    assert "at least 10 characters" in reveal(staff, case, "scurt").get_data(as_text=True)
    assert audit_of(case, "identity_revealed") == []

    assert reveal(staff, case, "Ten chars.").status_code == 200  # exactly 10 characters
    reason = "Trebuie să o contactăm pentru detalii despre factură."
    response = reveal(staff, case, reason)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert NAME in page and EMAIL in page and PHONE in page
    entries = audit_of(case, "identity_revealed")
    assert len(entries) == 2
    assert {entry.actor_staff_id for entry in entries} == {handler.id}
    # The reason may quote the report: the audit log holds it only encrypted under the case
    # key (the administrator reads the log, and so would a stolen copy) ...
    for entry in entries:
        assert set(json.loads(entry.detail)) == {"reason_sealed"}
        assert "Ten chars" not in entry.detail and "factur" not in entry.detail
    assert "factur" not in sign_in(make_handler("Maria Admin", roles=(Role.ADMIN,))).get(
        "/staff/admin/audit?action=identity_revealed").get_data(as_text=True)
    # ... and those who read the case read it on the case page.
    history = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Ten chars." in history and "detalii despre factur" in history

    # Shown for that request only: the next page view hides it again.
    assert not shows_identity(staff.get(f"/staff/cases/{case.id}").get_data(as_text=True))


def test_anonymous_case_has_nothing_to_reveal(submit, make_handler, sign_in, institution,
                                              kdf_params):
    handler = make_handler()
    submit()
    case = db.session.scalar(select(Case))
    staff = sign_in(handler)
    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "The reporter chose to stay anonymous." in page
    response = reveal(staff, case, "Vreau să știu cine a scris.")  # no form is offered
    assert response.status_code == 400
    assert audit_of(case, "identity_revealed") == []
    # The service says why (the page offers no reveal form, so it has nowhere to show it).
    with pytest.raises(identity.IdentityRefused) as refusal:
        identity.reveal(open_case(signed_in_access(institution, handler, kdf_params), case.id),
                        "Vreau să știu cine a scris.")
    assert refusal.value.message._args[0] == \
        "This report is anonymous: there is no identity to show."
    db.session.rollback()
    assert audit_of(case, "identity_revealed") == []


def test_excluded_handler_cannot_reveal(submit, make_handler, sign_in):
    make_handler("Ana Trusted")
    suspect = make_handler("Ion Suspect")
    case = identified_report(submit, excluded=str(suspect.id))
    response = reveal(sign_in(suspect), case, "Vreau să știu cine m-a reclamat.")
    assert response.status_code == 403
    assert not shows_identity(response.get_data(as_text=True))
    assert audit_of(case, "identity_revealed") == []


def request_identity(staff, case, reason):
    page_url = f"/staff/cases/{case.id}"
    return post(staff, f"{page_url}/identity-request", page_url, {"reveal-reason": reason})


def decide(custodian_client, request_id, decision, reason):
    return post(custodian_client, "/staff/identity-requests", "/staff/identity-requests",
                {"request_id": str(request_id), "decision": decision, "reason": reason})


def test_direct_policy_does_not_file_requests_nobody_can_approve(submit, make_handler,
                                                                 sign_in):
    handler = make_handler("Ana Popescu")
    custodian = make_handler("Elena Custode", roles=(Role.CUSTODIAN,))
    case = identified_report(submit)
    staff = sign_in(handler)
    request_identity(staff, case, "Vreau numele pentru o verificare.")
    pending = db.session.scalar(select(IdentityRequest))
    if pending is not None:  # if it is filed at all, a custodian must be able to decide it
        response = decide(sign_in(custodian), pending.id, "approve", "Aprob această cerere.")
        assert response.status_code == 302


# --- policy `custodian` ----------------------------------------------------------------------

@pytest.fixture
def custodian_setup(institution, make_handler, submit):
    institution.identity_policy = "custodian"
    db.session.commit()
    handler = make_handler("Ana Popescu")
    custodian = make_handler("Elena Custode", roles=(Role.CUSTODIAN,))
    case = identified_report(submit)
    return handler, custodian, case


def test_custodian_policy_seals_identity_to_custodians_only(custodian_setup):
    handler, custodian, case = custodian_setup
    assert holds(handler, case) and not holds(handler, case, KeyKind.IDENTITY)
    assert holds(custodian, case, KeyKind.IDENTITY) and not holds(custodian, case)


def test_custodian_approves_then_the_handler_can_reveal(custodian_setup, sign_in, institution,
                                                       kdf_params):
    handler, custodian, case = custodian_setup
    staff = sign_in(handler)

    response = reveal(staff, case, "Trebuie să o sunăm pentru o clarificare.")
    assert response.status_code == 400
    assert "Ask a custodian to approve access to the identity." in \
        response.get_data(as_text=True)
    assert not shows_identity(response.get_data(as_text=True))

    request_reason = "Avem nevoie de un martor pentru audierea din dosar."
    assert request_identity(staff, case, "scurt").status_code == 400
    response = request_identity(staff, case, request_reason)
    assert response.status_code == 302
    pending = db.session.scalar(select(IdentityRequest))
    assert pending.status == RequestStatus.PENDING and pending.requested_by_staff_id == handler.id
    again = request_identity(staff, case, request_reason)
    assert "Your request is already waiting for a custodian." in again.get_data(as_text=True)
    # The reason is for the custodians who decide, not for the administrator's audit log.
    assert [json.loads(e.detail) for e in audit_of(case, "identity_requested")] == \
        [{"request": pending.id}]

    keeper = sign_in(custodian)
    listing = keeper.get("/staff/identity-requests").get_data(as_text=True)
    assert request_reason in listing and not shows_identity(listing)
    assert decide(keeper, pending.id, "approve", "ok").status_code == 400  # reason too short
    decision_reason = "Audierea martorului este necesară, aprobat."
    response = decide(keeper, pending.id, "approve", decision_reason)
    assert response.status_code == 302
    db.session.expire_all()
    decided = db.session.get(IdentityRequest, pending.id)
    assert decided.status == RequestStatus.APPROVED and decided.decided_by_staff_id == custodian.id
    assert holds(handler, case, KeyKind.IDENTITY)
    [approval] = audit_of(case, "identity_request_approved")
    assert approval.actor_staff_id == custodian.id
    assert json.loads(approval.detail) == {"request": pending.id}
    # Both reasons are stored sealed; the custodian and the requester open them.
    assert request_reason.encode() not in (decided.reason_sealed or b"")
    for reader in (custodian, handler):
        seen = identity.view(signed_in_access(institution, reader, kdf_params), decided)
        assert (seen.reason, seen.decision_reason) == (request_reason, decision_reason)
    # Decided once only.
    response = decide(keeper, pending.id, "deny", "M-am răzgândit complet.")
    assert "This request has already been decided." in response.get_data(as_text=True)

    response = reveal(staff, case, "Trebuie să o sunăm pentru audiere.")
    assert response.status_code == 200
    assert NAME in response.get_data(as_text=True)
    assert len(audit_of(case, "identity_revealed")) == 1


def test_denied_request_leaves_the_handler_without_access(custodian_setup, sign_in):
    handler, custodian, case = custodian_setup
    staff = sign_in(handler)
    assert request_identity(staff, case, "Vreau numele pentru o verificare.").status_code == 302
    pending = db.session.scalar(select(IdentityRequest))
    keeper = sign_in(custodian)
    response = decide(keeper, pending.id, "deny", "Nu este necesar pentru verificare.")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(IdentityRequest, pending.id).status == RequestStatus.DENIED
    assert not holds(handler, case, KeyKind.IDENTITY)
    assert len(audit_of(case, "identity_request_denied")) == 1
    response = reveal(staff, case, "Totuși vreau să văd numele.")
    assert response.status_code == 400 and not shows_identity(response.get_data(as_text=True))
    # A new request may be filed after a denial.
    assert request_identity(staff, case, "Am aflat fapte noi, cer din nou.").status_code == 302


def test_only_a_custodian_can_decide(custodian_setup, sign_in, institution, kdf_params):
    handler, custodian, case = custodian_setup
    staff = sign_in(handler)
    request_identity(staff, case, "Vreau numele pentru o verificare.")
    pending = db.session.scalar(select(IdentityRequest))

    # Not through the page (see below for coordinators and admins)...
    response = decide(staff, pending.id, "approve", "Îmi aprob singur cererea.")
    assert response.status_code == 403
    # ...nor through the service.
    access = signed_in_access(institution, handler, kdf_params)
    with pytest.raises(NotAuthorised):
        with unit_of_work():
            identity.decide(access, pending.id, True, "Îmi aprob singur cererea.")
    db.session.expire_all()
    assert db.session.get(IdentityRequest, pending.id).status == RequestStatus.PENDING
    assert not holds(handler, case, KeyKind.IDENTITY)


def test_custodian_request_page_refuses_other_roles(custodian_setup, make_handler, sign_in):
    coordinator = make_handler("Coord", roles=(Role.COORDINATOR,))
    admin = make_handler("Admin", roles=(Role.ADMIN,))
    for member in (coordinator, admin):
        client = sign_in(member)
        assert client.get("/staff/identity-requests").status_code == 403
        token = csrf_token(client, "/staff/password")
        response = client.post("/staff/identity-requests", data={
            "csrf_token": token, "request_id": "1", "decision": "approve",
            "reason": "Nu am dreptul, dar încerc."})
        assert response.status_code == 403


# --- grants ------------------------------------------------------------------------------------

GRANT_OPTIONS_RE = re.compile(
    r'action="/staff/cases/\d+/access/grant".*?</form>', re.DOTALL)


def grant_choices(page: str) -> str:
    match = GRANT_OPTIONS_RE.search(page)
    return match.group(0) if match else ""


def access_post(client, case, action, member_id):
    page_url = f"/staff/cases/{case.id}"
    return post(client, f"{page_url}/access/{action}", page_url,
                {f"{action}-member": str(member_id)})


def flashed(client, case) -> str:
    return client.get(f"/staff/cases/{case.id}").get_data(as_text=True)


def test_grant_and_revoke_a_colleague(submit, make_handler, sign_in):
    handler = make_handler("Ana Popescu")
    case = identified_report(submit, what_happened="GRANT-MARKER text of the report")
    colleague = make_handler("Bogdan Nou")  # joined later: holds no key yet
    staff, other = sign_in(handler), sign_in(colleague)
    assert other.get(f"/staff/cases/{case.id}").status_code == 403

    assert "Bogdan Nou" in grant_choices(flashed(staff, case))
    response = access_post(staff, case, "grant", colleague.id)
    assert response.status_code == 302
    assert "Access granted." in flashed(staff, case)
    assert holds(colleague, case)
    assert holds(colleague, case, KeyKind.IDENTITY)  # policy `direct`: identity key too
    page = other.get(f"/staff/cases/{case.id}")
    assert page.status_code == 200 and "GRANT-MARKER" in page.get_data(as_text=True)
    assert "Bogdan Nou" not in grant_choices(flashed(staff, case))
    [granted] = audit_of(case, "access_granted")
    assert granted.actor_staff_id == handler.id
    assert json.loads(granted.detail) == {"to": colleague.id}

    response = access_post(staff, case, "revoke", colleague.id)
    assert response.status_code == 302
    assert "Access removed." in flashed(staff, case)
    assert not holds(colleague, case) and not holds(colleague, case, KeyKind.IDENTITY)
    response = other.get(f"/staff/cases/{case.id}")
    assert response.status_code == 403 and "GRANT-MARKER" not in response.get_data(as_text=True)
    [revoked] = audit_of(case, "access_revoked")
    assert revoked.actor_staff_id == handler.id
    assert json.loads(revoked.detail) == {"from": colleague.id}


def test_cannot_grant_a_handler_the_reporter_excluded(submit, make_handler, sign_in):
    handler = make_handler("Ana Trusted")
    suspect = make_handler("Ion Suspect")
    case = identified_report(submit, excluded=str(suspect.id),
                             what_happened="EXCL-MARKER about the mayor")
    staff = sign_in(handler)
    make_handler("Dana Later")  # someone who may be granted, so the grant form is shown
    page = flashed(staff, case)
    choices = grant_choices(page)
    assert "Dana Later" in choices and "Ion Suspect" not in choices
    assert "Ion Suspect" not in page  # not among holders either

    response = access_post(staff, case, "grant", suspect.id)
    assert response.status_code == 302
    assert "The reporter excluded this person from the case." in flashed(staff, case)
    assert not holds(suspect, case) and not holds(suspect, case, KeyKind.IDENTITY)
    assert audit_of(case, "access_granted") == []
    response = sign_in(suspect).get(f"/staff/cases/{case.id}")
    assert response.status_code == 403
    assert "EXCL-MARKER" not in response.get_data(as_text=True)


def test_cannot_grant_a_non_handler_or_revoke_oneself(submit, make_handler, sign_in):
    handler = make_handler("Ana Popescu")
    case = identified_report(submit)
    coordinator = make_handler("Carmen Coord", roles=(Role.COORDINATOR,))
    staff = sign_in(handler)

    access_post(staff, case, "grant", coordinator.id)
    assert "Choose an active handler of the institution." in flashed(staff, case)
    assert not holds(coordinator, case)

    response = access_post(staff, case, "revoke", handler.id)
    assert response.status_code == 302
    assert "You cannot remove your own access; ask a colleague." in flashed(staff, case)
    assert holds(handler, case) and holds(handler, case, KeyKind.IDENTITY)
    assert audit_of(case, "access_revoked") == []


def test_revoked_handler_loses_the_case_even_with_an_open_session(submit, make_handler,
                                                                  sign_in):
    first, second = make_handler("Ana Popescu"), make_handler("Bogdan Vechi")
    case = identified_report(submit)
    staff, other = sign_in(first), sign_in(second)
    assert other.get(f"/staff/cases/{case.id}").status_code == 200
    access_post(staff, case, "revoke", second.id)
    assert other.get(f"/staff/cases/{case.id}").status_code == 403
    assert case.reference not in other.get("/staff/cases").get_data(as_text=True)
    assert reveal(other, case, "Încă vreau să văd cine este.").status_code == 403


def test_custodian_policy_grant_does_not_pass_the_identity_key(custodian_setup, make_handler,
                                                               sign_in):
    handler, custodian, case = custodian_setup
    colleague = make_handler("Bogdan Nou")
    staff = sign_in(handler)
    access_post(staff, case, "grant", colleague.id)
    assert holds(colleague, case) and not holds(colleague, case, KeyKind.IDENTITY)


def test_approval_is_refused_when_the_requester_lost_the_case(custodian_setup, make_handler,
                                                              sign_in):
    handler, custodian, case = custodian_setup
    colleague = make_handler("Bogdan Nou")
    staff = sign_in(handler)
    access_post(staff, case, "grant", colleague.id)
    other = sign_in(colleague)
    assert request_identity(other, case, "Vreau numele pentru audiere.").status_code == 302
    access_post(staff, case, "revoke", colleague.id)
    assert not holds(colleague, case)
    pending = db.session.scalar(select(IdentityRequest))
    decide(sign_in(custodian), pending.id, "approve", "Aprob cererea colegului.")
    assert not holds(colleague, case, KeyKind.IDENTITY)


# --- another institution on the same deployment ---------------------------------------------

def test_nothing_crosses_from_one_institution_to_another(custodian_setup, institution,
                                                         kdf_params, sign_in):
    handler, custodian, case = custodian_setup
    staff = sign_in(handler)
    request_identity(staff, case, "Vreau numele pentru o verificare.")
    pending = db.session.scalar(select(IdentityRequest))

    other, _ = create_institution("Comuna Vecină")
    outsider = staff_service.add_staff(other, email="h@vecina.example", name="Outsider",
                                       roles=[Role.HANDLER, Role.CUSTODIAN],
                                       password="outsider-password-1", kdf_params=kdf_params)
    db.session.commit()
    outsider.password = "outsider-password-1"
    foreign = signed_in_access(other, outsider, kdf_params)
    for call in (lambda: workflow.triage(open_case(foreign, case.id), regime=Regime.PETITION,
                                         category=case.category),
                 lambda: identity.reveal(open_case(foreign, case.id),
                                         "Vreau numele reporterului."),
                 lambda: identity.request_access(open_case(foreign, case.id),
                                                 "Vreau numele acum."),
                 lambda: identity.decide(foreign, pending.id, True, "Aprob din afară."),
                 lambda: grants.grant(open_case(foreign, case.id), outsider.id)):
        with pytest.raises(NotAuthorised):
            with unit_of_work():
                call()

    own = signed_in_access(institution, handler, kdf_params)
    for call in (lambda: grants.grant(open_case(own, case.id), outsider.id),
                 lambda: grants.revoke(open_case(own, case.id), outsider.id)):
        with pytest.raises(GrantRefused):
            with unit_of_work():
                call()
    with pytest.raises(workflow.IllegalTransition):
        with unit_of_work():
            workflow.assign(open_case(own, case.id), outsider.id)
    assert not holds(outsider, case) and not holds(outsider, case, KeyKind.IDENTITY)
    db.session.expire_all()
    assert db.session.get(IdentityRequest, pending.id).status == RequestStatus.PENDING
    assert identity.pending_requests(foreign) == []


def test_request_reasons_are_sealed_to_the_requester_and_custodians_only(
        custodian_setup, make_handler, sign_in, institution, kdf_params):
    """Another handler of the case, an excluded-or-late custodian and the administrator's
    view of the database cannot read why the identity was asked for."""
    handler, custodian, case = custodian_setup
    colleague = make_handler("Ion Coleg")  # made a reader of the case by a grant below
    staff = sign_in(handler)
    assert access_post(staff, case, "grant", colleague.id).status_code == 302
    assert holds(colleague, case)
    late_custodian = make_handler("Dan Custode", roles=(Role.CUSTODIAN,))  # after the report
    reason = "Martorul " + "x" * 8 + " din dosarul de achiziții, audiere."
    assert request_identity(staff, case, reason).status_code == 302
    pending = db.session.scalar(select(IdentityRequest))
    assert reason.encode() not in bytes(pending.reason_sealed)

    keeper_page = sign_in(custodian).get("/staff/identity-requests").get_data(as_text=True)
    assert reason in keeper_page
    late_page = sign_in(late_custodian).get("/staff/identity-requests").get_data(as_text=True)
    assert reason not in late_page
    assert "The reason was not sealed to you" in late_page
    assert f'name="request_id" value="{pending.id}"' not in late_page  # nothing to decide
    late = signed_in_access(institution, late_custodian, kdf_params)
    with pytest.raises(NotAuthorised):
        with unit_of_work():
            identity.decide(late, pending.id, False, "Nu pot citi, dar refuz.")
    assert identity.view(signed_in_access(institution, colleague, kdf_params), pending).reason is None
    assert identity.view(signed_in_access(institution, handler, kdf_params), pending).reason == reason


def test_migration_seals_the_reasons_of_existing_requests(custodian_setup, institution,
                                                          kdf_params, migrated_database):
    """Requests filed while reasons were kept in clear: the upgrade encrypts them (sealing
    needs only the public keys in the database), and nothing readable is left behind."""
    import flask_migrate
    from sqlalchemy import text

    from tests.support.database import every_stored_value

    handler, custodian, case = custodian_setup
    reason = "Cerere veche " + "y" * 8 + ": audierea martorului."
    decision = "Decizie veche " + "z" * 8 + ": refuzat."
    ids = {"inst": institution.id, "case": case.id, "req": handler.id, "cust": custodian.id}
    passwords = {"req": handler.password, "cust": custodian.password}
    db.session.remove()
    flask_migrate.downgrade(revision="0007_e_unread_replies")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO identity_request (institution_id, case_id, requested_by_staff_id, "
            "reason, status, decided_by_staff_id, decision_reason, created_at) VALUES "
            "(:inst, :case, :req, :reason, 'denied', :cust, :decision, :now)"),
            {**ids, "reason": reason, "decision": decision, "now": "2026-11-30 10:00:00.000000"})
    flask_migrate.upgrade()
    db.engine.dispose()

    assert reason.encode() not in every_stored_value(migrated_database)
    assert decision.encode() not in every_stored_value(migrated_database)
    request = db.session.scalar(select(IdentityRequest))
    institution = db.session.get(Institution, ids["inst"])
    for who in ("cust", "req"):
        reader = db.session.get(StaffMember, ids[who])
        reader.password = passwords[who]
        seen = identity.view(signed_in_access(institution, reader, kdf_params), request)
        assert (seen.reason, seen.decision_reason) == (reason, decision)

"""The second wall, tried by taking the first one down: with the application's own
institution filter removed from a service, PostgreSQL's row-level security (app/rls.py,
scoped per request by app/tenancy.py) still shows a request nothing of another institution.

- The inbox with no condition at all (casework/inbox.py `_conditions` returns nothing, so
  neither the institution filter nor the key-holder filter is left): A's handler sees A's
  cases only; a designated person serving A and C sees A's and C's, never B's.
- The admin's staff list and staff page with their institution filter removed: no one of B.
- The services that find one object by its id (an outreach post, a risk, a plan measure or
  document, a staff account) with their institution comparison removed: A's coordinator,
  admin and contributor on every route that takes such an id, with B's ids, get 403/404 or
  a redirect, nothing of B, and B's rows stay as they were.
- Inside a real staff request of A's handler (its cookie, `tenancy.scope_request()` as the
  app runs it before every request), `select(Case)` with no filter at all, and B's case by
  its id, give A's rows only; a public request under B's path gives B's only.

Each is paired with its control: the same unfiltered query outside any request scope sees
every institution, so the wall, not an empty table, is what hides B.
"""
import secrets

import pytest
from sqlalchemy import func, select

from app import tenancy
from app.extensions import db
from app.models import (
    Case,
    CorruptionRisk,
    OutreachItem,
    PlanEvidence,
    PlanMeasure,
    Role,
    StaffAccount,
    StaffMember,
)
from app.plan import routes as plan_routes
from app.services.access.guards import require_role
from app.services.casework import inbox as inbox_service
from app.services.indicators import outreach
from app.services.operations.institutions import create_institution
from app.services.plan import access as plan_access
from app.services.plan import evidence as plan_evidence
from app.services.risks import register as risk_register
from app.services.staff import accounts
from app.services.staff import members as staff_service
from tests.support.forms import csrf_token
from tests.support.staff import sign_in_client
from tests.support.tenants import add_member, new_mark, populate, post_report, rows_of
from tests.test_row_level_security import declared_policies, postgresql_only

STAFF_COOKIE = "avertizor_staff"

pytestmark = postgresql_only


@pytest.fixture
def communes(app, kdf_params):
    """A, B and C, each with a handler, an admin and two reports; a person handling A and
    C's cases with one account."""
    made = {}
    for key, name in (("a", "Comuna Alfa"), ("b", "Comuna Beta"), ("c", "Comuna Gama")):
        institution, _ = create_institution(name)
        db.session.commit()
        mark = new_mark(f"{key}w")
        made[key] = {"institution": institution, "mark": mark,
                     "handler": add_member(institution, "key_handler", mark, kdf_params),
                     "admin": add_member(institution, "admin", mark, kdf_params)}
    password = secrets.token_urlsafe(16)
    shared = staff_service.add_staff(made["a"]["institution"], email="shared@example.org",
                                     name="Dana Comun", roles=[Role.HANDLER],
                                     password=password, kdf_params=kdf_params)
    staff_service.add_membership(shared.account, made["c"]["institution"], [Role.HANDLER])
    db.session.commit()
    shared.password = password
    for commune in made.values():
        for n in range(2):
            post_report(app.test_client(), f"/{commune['institution'].slug}",
                        what_happened=f"{commune['mark']} report {n}")
    made["shared"] = shared
    return made


def rows(page: str) -> int:
    return page.count("<tr>") - 1  # the header row


def test_the_inbox_without_any_condition_shows_only_the_requests_institutions(
        app, communes, monkeypatch):
    a, b, c = communes["a"], communes["b"], communes["c"]
    assert db.session.scalar(select(func.count(Case.id))) == 6  # unscoped: all are there
    handler = sign_in_client(app.test_client(), a["handler"])
    shared = sign_in_client(app.test_client(), communes["shared"])
    with_filter = handler.get("/staff/cases").get_data(as_text=True)
    assert rows(with_filter) == 2

    monkeypatch.setattr(inbox_service, "_conditions", lambda member, filters: [])
    page = handler.get("/staff/cases").get_data(as_text=True)
    assert rows(page) == 2 and "Comuna Beta" not in page and "Comuna Gama" not in page
    across = shared.get("/staff/cases").get_data(as_text=True)
    assert rows(across) == 4 and "Comuna Alfa" in across and "Comuna Gama" in across
    assert "Comuna Beta" not in across
    for staff in (handler, shared):
        # The filter by institution of the inbox's form is gone too: asking for B is empty.
        asked = staff.get(f"/staff/cases?institution={b['institution'].id}")
        assert asked.status_code in (200, 400) and "Comuna Beta" not in asked.get_data(
            as_text=True)
    assert c["mark"] not in page


def test_the_staff_list_without_its_institution_filter_shows_no_one_of_b(
        app, communes, monkeypatch):
    a, b = communes["a"], communes["b"]

    def every_member(admin):
        return [accounts.StaffRow(member, False) for member in db.session.scalars(
            select(StaffMember).join(StaffMember.account).order_by(StaffMember.id))]

    def any_member(admin, member_id):
        member = db.session.get(StaffMember, member_id)
        if member is None:
            raise accounts.NoSuchAccount("There is no such staff account.")
        return member

    assert db.session.scalar(select(func.count(StaffAccount.id))) == 7  # unscoped control
    admin = sign_in_client(app.test_client(), a["admin"])
    monkeypatch.setattr(accounts, "staff_list", every_member)
    monkeypatch.setattr(accounts, "staff_member", any_member)
    page = admin.get("/staff/admin/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and a["mark"] in text and "Dana Comun" in text
    assert b["mark"] not in text and communes["c"]["mark"] not in text
    assert admin.get(f"/staff/admin/staff/{b['handler'].id}").status_code == 404
    assert admin.get(f"/staff/admin/staff/{a['handler'].id}").status_code == 200
    token = csrf_token(admin, "/staff/password")
    assert admin.post(f"/staff/admin/staff/{b['handler'].id}/deactivate",
                      data={"csrf_token": token}).status_code == 404
    db.session.expire_all()
    assert db.session.get(StaffMember, b["handler"].id).active


def staff_cookie(app, member) -> str:
    browser = sign_in_client(app.test_client(), member)
    return browser.get_cookie(STAFF_COOKIE, path="/staff").value


def test_an_unfiltered_query_inside_a_request_sees_only_its_institutions(app, communes):
    a, b = communes["a"], communes["b"]
    ids = {key: communes[key]["institution"].id for key in "abc"}
    case_of_b = db.session.scalar(select(Case.id).where(Case.institution_id == ids["b"]))
    db.session.commit()
    for member, served in ((a["handler"], {ids["a"]}),
                           (communes["shared"], {ids["a"], ids["c"]})):
        cookie = staff_cookie(app, member)
        # Its own app context (hence `g` and database session), as every request has.
        with app.app_context(), app.test_request_context(
                "/staff/cases", headers={"Cookie": f"{STAFF_COOKIE}={cookie}"}):
            tenancy.scope_request()
            seen = {case.institution_id for case in db.session.scalars(select(Case))}
            assert seen == served
            assert db.session.get(Case, case_of_b) is None
            assert db.session.scalar(select(func.count(StaffMember.id)).where(
                StaffMember.institution_id == ids["b"])) == 0
    # A public page of B: B's cases only; under a path naming no institution, none.
    # (The path's institution as InstitutionPath, the WSGI middleware, leaves it.)
    slug = b["institution"].slug
    with app.app_context(), app.test_request_context(
            "/report", environ_overrides={tenancy.ENVIRON_KEY: slug,
                                          "SCRIPT_NAME": f"/{slug}"}):
        tenancy.scope_request()
        assert {case.institution_id for case in db.session.scalars(select(Case))} == {ids["b"]}
    with app.app_context(), app.test_request_context(
            "/report", environ_overrides={tenancy.ENVIRON_KEY: "no-such-commune"}):
        tenancy.scope_request()
        assert db.session.scalars(select(Case)).all() == []
    with app.app_context(), app.test_request_context("/staff/cases"):
        tenancy.scope_request()  # no one signed in
        assert db.session.scalars(select(Case)).all() == []
    assert db.session.scalar(select(func.count(Case.id))) == 6


def without_institution_checks(monkeypatch) -> None:
    """The services that find one object by its id, with their institution comparison
    removed: only existence (and the role) is left, so only row-level security stands
    between A's staff and B's outreach posts, risks, plan measures and documents, staff
    accounts."""
    def outreach_get(member, item_id):
        require_role(member, Role.COORDINATOR)
        item = db.session.get(OutreachItem, item_id)
        if item is None:
            raise outreach.OutreachNotFound("This entry does not exist (any more).")
        return item

    def risk_get(member, risk_id):
        require_role(member, Role.COORDINATOR)
        risk = db.session.get(CorruptionRisk, risk_id)
        if risk is None:
            raise risk_register.RiskNotFound("This risk does not exist (any more).")
        return risk

    def measure_for(member, measure_id):
        plan_access.require_reader(member)
        measure = db.session.get(PlanMeasure, measure_id)
        if measure is None:
            raise plan_access.PlanNotFound("This measure does not exist (any more).")
        return measure

    def evidence_row(institution_id, evidence_id):
        row = db.session.get(PlanEvidence, evidence_id)
        if row is None:
            raise plan_access.PlanNotFound("This document does not exist (any more).")
        return row

    def staff_member(admin, member_id):
        require_role(admin, Role.ADMIN)
        member = db.session.get(StaffMember, member_id)
        if member is None:
            raise accounts.NoSuchAccount("There is no such staff account.")
        return member

    monkeypatch.setattr(outreach, "get", outreach_get)
    monkeypatch.setattr(risk_register, "get", risk_get)
    monkeypatch.setattr(plan_access, "measure_for", measure_for)
    monkeypatch.setattr(plan_routes, "measure_for", measure_for)
    monkeypatch.setattr(plan_evidence, "_row", evidence_row)
    monkeypatch.setattr(accounts, "staff_member", staff_member)


UNCHECKED = ("item_id", "risk_id", "measure_id", "evidence_id", "member_id")


def test_routes_whose_getters_lost_their_institution_check_still_reach_nothing_of_b(
        app, kdf_params, monkeypatch):
    from tests.test_isolation_matrix import requests_against

    a, _ = create_institution("Comuna Alfa")
    b, _ = create_institution("Comuna Beta")
    db.session.commit()
    tenant_a, target = (populate(app, institution, new_mark(f"{key}v"), kdf_params)
                        for key, institution in (("a", a), ("b", b)))
    by_institution, by_parent = declared_policies()
    tables = by_institution | set(by_parent)
    browsers = {role: sign_in_client(app.test_client(), tenant_a.members[role])
                for role in ("coordinator", "admin", "contributor")}
    tokens = {role: csrf_token(browser, "/staff/password") for role, browser in browsers.items()}
    without_institution_checks(monkeypatch)
    # The getters really lost their check: outside any request scope they return B's rows.
    assert outreach.get(tenant_a.members["coordinator"], target.outreach_id).institution_id \
        == b.id
    before = rows_of(b.id, tables, by_parent)

    problems, tried = [], 0
    for rule, method, url, form, _ in requests_against(app, target):
        if not set(UNCHECKED) & set(rule.arguments):
            continue
        for role, browser in browsers.items():
            response = browser.get(url) if method == "GET" else browser.post(
                url, data={**form, "csrf_token": tokens[role]})
            tried += 1
            where = f"{method} {url} as {role}: {response.status_code}"
            if [needle for needle in target.needles if needle in response.data]:
                problems.append(f"{where} SHOWED B's content")
            if response.status_code not in (302, 303, 403, 404):
                problems.append(f"{where} (expected 403, 404 or a redirect)")
            if method == "POST" and rows_of(b.id, tables, by_parent) != before:
                problems.append(f"{where} CHANGED B's rows")
                before = rows_of(b.id, tables, by_parent)
    assert tried > 40, tried
    assert not problems, "\n".join(problems)
    # And A's own objects still open through the same unchecked getters.
    coordinator = browsers["coordinator"]
    for url in (f"/staff/risks/{tenant_a.risk_id}/edit",
                f"/staff/outreach/{tenant_a.outreach_id}/edit",
                f"/staff/plan/measures/{tenant_a.measure_id}",
                f"/staff/plan/evidence/{tenant_a.plan_evidence_id}"):
        response = coordinator.get(url)
        assert response.status_code == 200 and tenant_a.mark.encode() in response.data, url

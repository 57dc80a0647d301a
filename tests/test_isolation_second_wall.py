"""The second wall, tried by taking the first one down: with the application's own
institution filter removed from a service, PostgreSQL's row-level security (app/rls.py,
scoped per request by app/tenancy.py) still shows a request nothing of another institution.

- The inbox with no condition at all (casework/inbox.py `_conditions` returns nothing, so
  neither the institution filter nor the key-holder filter is left): A's handler sees A's
  cases only; a designated person serving A and C sees A's and C's, never B's.
- The admin's staff list and staff page with their institution filter removed: no one of B.
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
from app.models import Case, Role, StaffAccount, StaffMember
from app.services.casework import inbox as inbox_service
from app.services.operations.institutions import create_institution
from app.services.staff import accounts
from app.services.staff import members as staff_service
from tests.support.forms import csrf_token
from tests.support.staff import sign_in_client
from tests.support.tenants import add_member, new_mark, post_report
from tests.test_row_level_security import postgresql_only

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

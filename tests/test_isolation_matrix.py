"""Staff of one institution on every back-office route, aimed at another institution's
objects: refused every time, shown nothing, changing nothing.

Three communes share the portal. B is the target: its staff, a report with evidence, a named
reporter, messages both ways, a note, an identity request, an invitation, an outreach post, a
plan with evidence and a corruption risk, every text marked with B's mark. A's staff (a
handler holding A's case key, a coordinator, a custodian, an admin, a plan contributor) and a
designated person shared by A and C (in each of their places) try every /staff route of the
URL map, with B's ids in the path (case, file, request, member, invitation, outreach item,
measure, plan evidence, risk) and in the forms (the complete forms of
tests/test_csrf_everywhere.py, so that a refusal cannot hide behind validation).

Every answer: no mark of B (report text, reporter's name or e-mail, evidence name or content,
staff names and e-mails, plan and risk texts); a route naming one of B's objects answers 403,
404 or a redirect that is not to a page of B's object; and B's rows, every one of them, are
byte for byte what they were before each POST.
"""
import secrets
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from werkzeug.routing import AnyConverter

from app.extensions import db
from app.models import Role
from app.services.indicators.periods import local_today
from app.services.operations.institutions import create_institution
from app.services.staff import members as staff_service
from tests.support.forms import csrf_token
from tests.support.staff import make_operator, sign_in_client
from tests.support.tenants import new_mark, populate, rows_of
from tests.test_csrf_everywhere import ACTION_SETS
from tests.test_csrf_everywhere import form_for as complete_form
from tests.test_role_matrix import is_exempt, staff_rules
from tests.test_row_level_security import declared_policies

A_ROLES = ("key_handler", "coordinator", "custodian", "admin", "contributor")
# URL variables that name an object of the target institution.
OBJECT_FILLERS = {
    "case_id": lambda t: t.case_id,
    "file_id": lambda t: t.file_id,
    "request_id": lambda t: t.request_id,
    "member_id": lambda t: t.members["spare"].id,
    "invitation_id": lambda t: t.invitation_id,
    "item_id": lambda t: t.outreach_id,
    "measure_id": lambda t: t.measure_id,
    "evidence_id": lambda t: t.plan_evidence_id,
    "risk_id": lambda t: t.risk_id,
    "slug": lambda t: t.prefix.strip("/"),  # the operator's page of one institution
}
# Form fields that name an object of the target institution, for routes without one in the
# path: they must be refused, not only kept from showing it.
FORM_TARGETS = {"backoffice.identity_requests", "auth.switch_institution"}


@pytest.fixture
def portal(app, kdf_params):
    a, _ = create_institution("Comuna Alfa")
    b, _ = create_institution("Comuna Beta")
    c, _ = create_institution("Comuna Gama")
    db.session.commit()
    tenants = {name: populate(app, institution, new_mark(f"{name}q"), kdf_params)
               for name, institution in (("a", a), ("b", b))}
    password = secrets.token_urlsafe(16)
    shared = staff_service.add_staff(
        a, email="shared.person@example.org", name="Dana Comun",
        roles=[Role.HANDLER, Role.ADMIN], password=password, kdf_params=kdf_params)
    staff_service.add_membership(shared.account, c, [Role.HANDLER, Role.COORDINATOR])
    db.session.commit()
    shared.password = password
    tenants["c"] = SimpleNamespace(institution=c)
    return SimpleNamespace(tenants=tenants, shared=shared)


def expansions(rule, target):
    """(url, names an object of the target) for every URL the rule stands for."""
    choices: dict[str, list] = {}
    names_object = False
    for name, converter in rule._converters.items():
        if name == "action":
            assert rule.endpoint in ACTION_SETS, f"{rule.rule}: which <action> values?"
            choices[name] = sorted(ACTION_SETS[rule.endpoint])
        elif isinstance(converter, AnyConverter):
            choices[name] = sorted(converter.items)
        elif name == "year":
            choices[name] = [local_today().year]
        else:
            assert name in OBJECT_FILLERS, f"{rule.rule}: nothing of B fills <{name}>"
            choices[name] = [OBJECT_FILLERS[name](target)]
            names_object = True
    combos = [{}]
    for name, options in choices.items():
        combos = [{**combo, name: option} for combo in combos for option in options]
    return [(rule.build(values, append_unknown=False)[1], names_object) for values in combos]


def forms_world(target):
    """The target's ids in the shape tests/test_csrf_everywhere.py fills its forms from."""
    return SimpleNamespace(
        case_id=target.case_id, file_id=target.file_id, request_id=target.request_id,
        spare_id=target.members["spare"].id, measure_id=target.measure_id,
        receipt=target.receipt, slug=target.prefix.strip("/"),
        members={"holder": target.members["key_handler"], "half": target.members["spare"]})


def requests_against(app, target):
    world = forms_world(target)
    for rule in sorted(staff_rules(app), key=lambda r: r.rule):
        if is_exempt(rule):
            continue
        for url, names_object in expansions(rule, target):
            for method in ("GET", "POST"):
                if method not in rule.methods:
                    continue
                form = None
                if method == "POST":
                    form = complete_form(rule, url, world)
                    if rule.endpoint == "auth.switch_institution":
                        form = {"institution": str(target.institution.id)}
                yield rule, method, url, form, names_object or (
                    method == "POST" and rule.endpoint in FORM_TARGETS)


def visitors(app, portal):
    a, c = portal.tenants["a"], portal.tenants["c"]
    browsers = {role: sign_in_client(app.test_client(), a.members[role]) for role in A_ROLES}
    for place, institution in (("shared_in_a", a.institution), ("shared_in_c", c.institution)):
        browser = sign_in_client(app.test_client(), portal.shared)
        token = csrf_token(browser, "/staff/password")
        assert browser.post("/staff/institution", data={
            "institution": institution.id, "csrf_token": token}).status_code == 302
        page = browser.get("/staff/cases").get_data(as_text=True)
        assert f'<option value="{institution.id}" selected>' in page, place
        browsers[place] = browser
    return browsers


def test_no_one_of_another_institution_reaches_anything_of_b(app, portal):
    target = portal.tenants["b"]
    by_institution, by_parent = declared_policies()
    tables = by_institution | set(by_parent)
    browsers = visitors(app, portal)
    tokens = {name: csrf_token(browser, "/staff/password") for name, browser in browsers.items()}
    before = rows_of(target.institution.id, tables, by_parent)
    assert before["case"] and before["attachment"] and before["identity_request"]

    problems, tried, aimed = [], 0, 0
    for _rule, method, url, form, names_object in requests_against(app, target):
        for visitor, browser in browsers.items():
            if method == "GET":
                response = browser.get(url)
            else:
                response = browser.post(url, data={**form, "csrf_token": tokens[visitor]})
            tried += 1
            where = f"{method} {url} as {visitor}: {response.status_code}"
            shown = [needle for needle in target.needles if needle in response.data]
            if shown:
                problems.append(f"{where} SHOWED B's {shown}")
            location = urlsplit(response.headers.get("Location", "")).path
            if response.status_code >= 500:
                problems.append(f"{where} (server error)")
            if response.status_code in (301, 302, 303, 307, 308) and location == "/staff/login":
                problems.append(f"{where} (signed out: the sweep would prove nothing)")
            if names_object:
                aimed += 1
                redirected = response.status_code in (302, 303) and location != urlsplit(
                    url).path
                if response.status_code not in (403, 404) and not redirected:
                    problems.append(f"{where} (expected 403, 404 or a redirect away)")
            if method == "POST":
                after = rows_of(target.institution.id, tables, by_parent)
                if after != before:
                    changed = sorted(t for t in before if before[t] != after.get(t))
                    problems.append(f"{where} CHANGED B's {changed}")
                    before = after
    assert tried > 500 and aimed > 300, (tried, aimed)
    assert not problems, "\n".join(problems)

    # The visitors were signed in all along, in their own institutions: each still reaches
    # its own pages, and A's handler still reads A's case.
    a = portal.tenants["a"]
    for visitor, page in (("key_handler", f"/staff/cases/{a.case_id}"),
                          ("coordinator", "/staff/stats"), ("custodian",
                                                            "/staff/identity-requests"),
                          ("admin", "/staff/admin/"), ("contributor", "/staff/plan"),
                          ("shared_in_a", "/staff/cases"), ("shared_in_c", "/staff/cases")):
        response = browsers[visitor].get(page)
        assert response.status_code == 200, (visitor, page, response.status_code)
    assert a.texts["what_happened"] in browsers["key_handler"].get(
        f"/staff/cases/{a.case_id}").get_data(as_text=True)


def test_the_targets_own_staff_do_reach_what_the_others_cannot(app, portal):
    """The control: the same URLs, in B's own hands, answer with B's content; so the
    refusals above are about the institution, not broken URLs."""
    target = portal.tenants["b"]
    holder = sign_in_client(app.test_client(), target.members["key_handler"])
    coordinator = sign_in_client(app.test_client(), target.members["coordinator"])
    admin = sign_in_client(app.test_client(), target.members["admin"])
    custodian = sign_in_client(app.test_client(), target.members["custodian"])
    for browser, url in ((holder, f"/staff/cases/{target.case_id}"),
                         (holder, f"/staff/cases/{target.case_id}/files/{target.file_id}"),
                         (coordinator, f"/staff/outreach/{target.outreach_id}/edit"),
                         (coordinator, f"/staff/risks/{target.risk_id}/edit"),
                         (coordinator, f"/staff/plan/evidence/{target.plan_evidence_id}"),
                         (coordinator, f"/staff/plan/measures/{target.measure_id}"),
                         (admin, f"/staff/admin/staff/{target.members['spare'].id}"),
                         (custodian, "/staff/identity-requests")):
        response = browser.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert any(needle in response.data for needle in target.needles), url


def test_the_shared_person_cannot_choose_an_institution_they_do_not_serve(app, portal):
    target = portal.tenants["b"]
    browser = sign_in_client(app.test_client(), portal.shared)
    token = csrf_token(browser, "/staff/password")
    response = browser.post("/staff/institution", data={
        "institution": target.institution.id, "csrf_token": token})
    assert response.status_code == 403
    # Opening B's case does not move the person into B, as opening C's case moves them to C.
    assert browser.get(f"/staff/cases/{target.case_id}").status_code in (403, 404)
    inbox = browser.get("/staff/cases").get_data(as_text=True)
    assert f'<option value="{target.institution.id}"' not in inbox
    assert target.mark not in inbox and "Comuna Beta" not in inbox


def test_a_platform_operators_account_reaches_no_content_route(app, portal):
    """The operator (creates, suspends and removes institutions, sees counts only) has an
    account and no place in any institution: every institution route with B's ids answers
    403, with nothing of B. (Its own pages, /staff/platform/, are tests/test_platform_operator.py
    and the role matrix's.)"""
    target = portal.tenants["b"]
    operator = make_operator(app)
    browser = sign_in_client(app.test_client(), operator)
    token = csrf_token(browser, "/staff/platform/institutions/new")
    tried = 0
    for rule, method, url, form, _ in requests_against(app, target):
        if rule.rule.startswith("/staff/platform/"):
            continue
        response = browser.get(url) if method == "GET" else browser.post(
            url, data={**form, "csrf_token": token})
        tried += 1
        assert not [n for n in target.needles if n in response.data], (method, url)
        assert response.status_code == 403 or (
            response.status_code in (302, 303)
            and not urlsplit(response.headers["Location"]).path.startswith("/staff/cases")), \
            (method, url, response.status_code)
    assert tried > 80


def test_the_inbox_filter_naming_b_shows_nothing_of_b(app, portal):
    """The inbox's institution filter is the one place a staff page reads an institution
    from the query string: naming B there gives an empty list, not B's cases."""
    target = portal.tenants["b"]
    a = portal.tenants["a"]
    for browser in (sign_in_client(app.test_client(), a.members["key_handler"]),
                    sign_in_client(app.test_client(), portal.shared)):
        response = browser.get(f"/staff/cases?institution={target.institution.id}")
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "No cases match." in page and f"/staff/cases/{target.case_id}\"" not in page
        assert not [n for n in target.needles if n in response.data]
        assert "Comuna Beta" not in page

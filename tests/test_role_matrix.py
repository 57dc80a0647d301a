"""Who may open what under /staff, generated from the URL map.

Every back-office route is tried with GET and, for POST rules, a POST carrying a valid CSRF
token and a filled-in form (so the request reaches the service's own checks, not only the
form validation), as each kind of visitor:

- anonymous: a browser with no cookie at all;
- reporter: logged in at /follow-up with a receipt, and even presenting that session's cookie
  as a staff cookie: the back office must treat them as anonymous;
- half_signed_in: a handler who holds the key but gave only the password (no TOTP yet);
- key_handler: a handler holding the case key;
- coordinator, custodian, admin, contributor (plan contributor): members holding only that
  role; the contributor is responsible for every measure of the loaded plan;
- excluded: a handler the reporter excluded from the case;
- operator: the platform operator (a platform account, no place in any institution), who may
  open the platform pages only and gets 403 on every institution route.

Only the allowed visitors pass; signed-in visitors who are not allowed get 403, anonymous ones
the sign-in redirect; and no response to anyone but the key holder ever carries the report's
text, the reporter's name or e-mail, or the evidence file (its name or content) — not even an
allowed page of the coordinator, custodian or admin.

A route that is neither classified below nor covered by a prefix rule fails
test_every_staff_route_is_classified: add it to ALLOWED (or EXEMPT, with the reason).
"""
import io
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter, UUIDConverter

from app.backoffice.routes import ACTIONS, MEMBER_ACTIONS
from app.extensions import db
from app.models import (
    Attachment,
    Case,
    IdentityRequest,
    KeyKind,
    KeyWrap,
    MeasureAssignee,
    PlanMeasure,
    Role,
)
from app.services.plan import data as plan_data
from app.services.plan.loader import store_plan
from tests.conftest import CSRF_RE, csrf_token
from tests.support.staff import make_operator

ANONYMOUS = ("anonymous", "reporter", "half_signed_in")
SIGNED_IN = ("key_handler", "coordinator", "custodian", "admin", "excluded", "contributor")
PLATFORM = ("operator",)
VISITORS = ANONYMOUS + SIGNED_IN + PLATFORM

HOLDER = frozenset({"key_handler"})
ANY_HANDLER = frozenset({"key_handler", "excluded"})
ANY_STAFF = frozenset(SIGNED_IN)
CUSTODIAN = frozenset({"custodian"})
COORDINATOR = frozenset({"coordinator"})
ADMIN = frozenset({"admin"})
CONTRIBUTOR = frozenset({"contributor"})
OPERATOR = frozenset({"operator"})


# Rule → who may pass it. Handlers reach the inbox and manual intake whether or not they hold
# a given case's key (the inbox lists only cases they hold); everything about one case needs
# its key.
ALLOWED = {
    "/staff/": ANY_STAFF,
    "/staff/password": ANY_STAFF,
    # Choosing which of one's own institutions to work in (any other is refused: see
    # tests/test_many_institutions.py).
    "/staff/institution": ANY_STAFF,
    "/staff/cases": ANY_HANDLER,
    "/staff/intake": ANY_HANDLER,
    "/staff/paper-forms": ANY_HANDLER,
    "/staff/cases/<int:case_id>": HOLDER,
    "/staff/cases/<int:case_id>/<action>": HOLDER,
    "/staff/cases/<int:case_id>/access/<action>": HOLDER,
    "/staff/cases/<int:case_id>/identity": HOLDER,
    "/staff/cases/<int:case_id>/files/<int:file_id>": HOLDER,
    "/staff/cases/<int:case_id>/forwarding-packet.<any(pdf, zip):kind>": HOLDER,
    # The register lists only the cases the handler holds: an excluded one gets theirs.
    "/staff/register": ANY_HANDLER,
    "/staff/identity-requests": CUSTODIAN,
    # A second person confirms a new reader: another admin, or with a single admin a handler.
    "/staff/admin/confirmations": ADMIN | ANY_HANDLER,
    "/staff/admin/staff/<int:member_id>/confirm": ADMIN | ANY_HANDLER,
    # The integrity plan's coordinator alone edits and publishes it (the rest of /staff/plan/
    # is by prefix below).
    "/staff/plan/start": COORDINATOR,
    "/staff/plan/measures/new": COORDINATOR,
    "/staff/plan/measures/<int:measure_id>/edit": COORDINATOR,
    "/staff/plan/measures/<int:measure_id>/retire": COORDINATOR,
    "/staff/plan/publication": COORDINATOR,
    "/staff/plan/open-data": COORDINATOR,
    "/staff/plan/evidence/<int:evidence_id>/visibility": COORDINATOR,
    # The observer's group indicators: an observer account only, no visitor here (the
    # operator included); tests/test_observer.py lets the observer in.
    "/staff/platform/observer": frozenset(),
    "/staff/platform/observer.csv": frozenset(),
}
# Whole areas, so that routes still being written are covered the day they appear.
ALLOWED_BY_PREFIX = {
    "/staff/admin/": ADMIN,  # accounts, settings, audit log: never case content
    # The integrity-plan coordinator: aggregates, exports, the annual report and the outreach
    # log (measure 2.2's third indicator); metadata only, never content.
    "/staff/stats/": COORDINATOR,
    "/staff/outreach/": COORDINATOR,
    # The integrity plan: its coordinator and its contributors (who never reach a case);
    # editing, publishing and the evaluation (with the figures computed from cases) are the
    # coordinator's.
    "/staff/plan/evaluation/": COORDINATOR,
    # The corruption-risk register (1.5, 1.6: Anexa C) and the self-assessment (1.8).
    "/staff/risks/": COORDINATOR,
    "/staff/self-assessment": COORDINATOR,
    "/staff/plan/": COORDINATOR | CONTRIBUTOR,
    # The platform operator's pages: institutions and counts only; nobody of an institution.
    "/staff/platform/": OPERATOR,
}
# Public by design (anyone may open them; they are checked only for leaking nothing).
EXEMPT = {
    "/staff/login": "the sign-in page itself",
    "/staff/login/code": "the second sign-in step; it needs the half session the password "
                         "step opened, and redirects to /staff/login without one",
    "/staff/activate/<token>": "an invited person's activation link, before they have an "
                               "account; the token is the credential",
    "/staff/logout": "signing out needs no session and always ends at the sign-in page",
}
EXEMPT_ENDPOINT_SUFFIX = ".static"  # a blueprint's static files, if any


def classify(rule: str) -> frozenset | None:
    if rule in ALLOWED:
        return ALLOWED[rule]
    for prefix, allowed in ALLOWED_BY_PREFIX.items():
        if rule.startswith(prefix) or rule == prefix.rstrip("/"):
            return allowed
    return None


def staff_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if rule.rule == "/staff" or rule.rule.startswith("/staff/")]


def is_exempt(rule) -> bool:
    return rule.rule in EXEMPT or rule.endpoint == "static" \
        or rule.endpoint.endswith(EXEMPT_ENDPOINT_SUFFIX)


def test_every_staff_route_is_classified(app):
    unclassified = [f"{rule.rule} ({rule.endpoint})" for rule in staff_rules(app)
                    if not is_exempt(rule) and classify(rule.rule) is None]
    assert not unclassified, (
        "Back-office routes nobody has classified (add them to ALLOWED in "
        f"tests/test_role_matrix.py, with who may open them): {unclassified}")
    present = {rule.rule for rule in staff_rules(app)}
    stale = sorted(set(ALLOWED) - present)
    assert not stale, f"ALLOWED names routes that no longer exist: {stale}"


# --- the world the matrix runs in ------------------------------------------------------------

MARK = "mx" + secrets.token_hex(6)
TEXT = f"{MARK}-what-happened"
NAME = f"{MARK}-reporter-name"
FILE_NAME = f"{MARK}-evidence.txt"
FILE_CONTENT = f"{MARK}-file-content ".encode() * 20
LEAKS = (MARK.encode(), FILE_CONTENT[:40])


@dataclass
class World:
    case: Case
    file_id: int
    request_id: int
    spare_id: int
    slug: str
    browsers: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)


@pytest.fixture
def world(app, client, institution, submit, follow_up, make_handler, sign_in) -> World:
    # Policy `custodian`, so that an identity request exists for the custodian's routes.
    institution.identity_policy = "custodian"
    db.session.commit()
    key_handler = make_handler("Ana Holder")
    excluded = make_handler("Ion Excluded")
    spare = make_handler("Spare Handler")  # the colleague whose id fills member fields
    half = make_handler("Half Signed-In")
    coordinator = make_handler("Carmen Coordinator", roles=(Role.COORDINATOR,))
    custodian = make_handler("Elena Custodian", roles=(Role.CUSTODIAN,))
    admin = make_handler("Adi Admin", roles=(Role.ADMIN,))
    contributor = make_handler("Paul Contributor", roles=(Role.PLAN_CONTRIBUTOR,))
    plan = store_plan(institution, plan_data.shipped())
    db.session.flush()
    for measure in db.session.scalars(select(PlanMeasure).where(PlanMeasure.plan_id == plan.id)):
        db.session.add(MeasureAssignee(measure_id=measure.id, staff_id=contributor.id))
    db.session.commit()

    response, receipt = submit(
        what_happened=TEXT, identity_choice="identified", name=NAME,
        email=f"{MARK}@example.org", excluded=str(excluded.id),
        files=[(io.BytesIO(FILE_CONTENT), FILE_NAME)])
    assert response.status_code == 200 and receipt
    case = db.session.scalar(select(Case))
    file_id = db.session.scalar(select(Attachment.id).where(Attachment.case_id == case.id))
    holders = set(db.session.scalars(select(KeyWrap.staff_id).where(
        KeyWrap.case_id == case.id, KeyWrap.kind == KeyKind.CASE)))
    assert key_handler.id in holders and half.id in holders and excluded.id not in holders

    # The reporter's browser: logged in at /follow-up, and presenting that session's cookie
    # to the back office as if it were a staff cookie.
    assert follow_up(receipt).status_code == 302
    followup_cookie = client.get_cookie("avertizor_followup", path="/follow-up").value
    client.set_cookie("avertizor_staff", followup_cookie, path="/staff")

    # Password only: the session waits for the TOTP code.
    half_browser = app.test_client()
    token = csrf_token(half_browser, "/staff/login")
    assert half_browser.post("/staff/login", data={
        "email": half.email, "password": half.password, "csrf_token": token}).status_code == 302

    browsers = {"anonymous": app.test_client(), "reporter": client,
                "half_signed_in": half_browser}
    for name, member in (("key_handler", key_handler), ("coordinator", coordinator),
                         ("custodian", custodian), ("admin", admin), ("excluded", excluded),
                         ("contributor", contributor), ("operator", make_operator(app))):
        browsers[name] = sign_in(member)

    holder = browsers["key_handler"]
    page = holder.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert TEXT in page and FILE_NAME in page  # the markers are real: the holder sees them
    token = CSRF_RE.search(page).group(1)
    assert holder.post(f"/staff/cases/{case.id}/identity-request", data={
        "reveal-reason": "Needed for a witness hearing.", "csrf_token": token}).status_code == 302
    request_id = db.session.scalar(select(IdentityRequest.id))

    tokens = {}
    for name, browser in browsers.items():
        source = ("/staff/password" if name in SIGNED_IN else
                  "/staff/platform/institutions/new" if name in PLATFORM
                  else "/staff/login")
        tokens[name] = csrf_token(browser, source)
    return World(case=case, file_id=file_id, request_id=request_id, spare_id=spare.id,
                 slug=institution.slug, browsers=browsers, tokens=tokens)


TODAY = date.today().isoformat()
CASE_ACTION_FORMS = {
    "triage": {"triage-regime": "petition", "triage-category": "bribery"},
    "acknowledge": {"ack-message": "Received, thank you."},
    "close": {"close-outcome": "dismissed", "close-message": "Closed after examination."},
    "forward": {"fwd-authority": "DNA", "fwd-forwarded_on": TODAY,
                "fwd-message": "Sent to the competent authority."},
    "extend": {"ext-message": "We need 15 more days."},
    "message": {"msg-body": "A question for you."},
    "note": {"note-body": "An internal note."},
    "identity-request": {"reveal-reason": "Needed for a witness hearing."},
}


def form_for(rule, values: dict, world: World) -> dict:
    """A filled-in form for the POST, so that a refusal cannot hide behind validation."""
    if rule.endpoint == "backoffice.case_action":
        return CASE_ACTION_FORMS.get(values["action"], {})
    if rule.endpoint == "backoffice.case_access":
        return {f"{values['action']}-member": str(world.spare_id)}
    if rule.endpoint == "backoffice.reveal_identity":
        return {"reveal-reason": "Needed to contact the reporter."}
    if rule.endpoint == "backoffice.identity_requests":
        return {"request_id": str(world.request_id), "decision": "deny",
                "reason": "Not needed for this case."}
    if rule.endpoint == "backoffice.intake_form":
        return {"channel": "post", "received_on": date.today().isoformat(),
                "category": "other", "what_happened": "A letter arrived.", "anonymous": "y",
                "issue_receipt": ""}
    if rule.endpoint == "auth.switch_institution":
        return {"institution": str(world.case.institution_id)}
    if rule.endpoint == "platform.new_institution":
        return {"name": "Comuna Matricea", "county": "Iași", "admin_email": "p@matrix.example"}
    if rule.endpoint == "platform.delete":
        return {"confirm_slug": "not-the-slug"}  # reaches the service's check, deletes nothing
    if rule.endpoint == "auth.change_password":
        return {"current_password": "not-the-password", "new_password": "x" * 16,
                "confirm": "x" * 16}
    return {}


def expansions(rule, world: World):
    """Every URL the rule stands for, with a real case, file, request or colleague; and
    whether a value was only guessed (then a 404 for an allowed visitor is acceptable)."""
    choices: dict[str, list] = {}
    guessed = False
    for name, converter in rule._converters.items():
        if name == "case_id":
            choices[name] = [world.case.id]
        elif name == "file_id":
            choices[name] = [world.file_id]
        elif name == "request_id":
            choices[name] = [world.request_id]
        elif name == "slug":
            choices[name] = [world.slug]  # the matrix's institution, on the operator's pages
        elif name == "year":
            choices[name] = [world.case.received_at.year]
        elif name == "action" and rule.endpoint == "backoffice.case_action":
            choices[name] = sorted(ACTIONS)
        elif name == "action" and rule.endpoint == "backoffice.case_access":
            choices[name] = sorted(MEMBER_ACTIONS)
        elif isinstance(converter, AnyConverter):
            choices[name] = sorted(converter.items)
        elif isinstance(converter, IntegerConverter):
            choices[name], guessed = [world.spare_id], True  # a staff member, most likely
        elif isinstance(converter, UUIDConverter):
            choices[name], guessed = [uuid.uuid4()], True
        else:
            choices[name], guessed = [secrets.token_urlsafe(16)], True
    combos = [{}]
    for name, options in choices.items():
        combos = [{**combo, name: option} for combo in combos for option in options]
    for values in combos:
        built = rule.build(values, append_unknown=False)
        assert built is not None, (rule.rule, values)
        yield built[1], values, guessed


def requests_for(app, world: World):
    """(rule, method, url, form, guessed) for every classified route; sign-out comes last
    because it ends the session the rest of the matrix uses."""
    for rule in sorted(staff_rules(app), key=lambda r: r.endpoint == "auth.logout"):
        if is_exempt(rule):
            continue
        for url, values, guessed in expansions(rule, world):
            for method in ("GET", "POST"):
                if method in rule.methods:
                    form = form_for(rule, values, world) if method == "POST" else None
                    yield rule, method, url, form, guessed


def send(world: World, visitor: str, method: str, url: str, form: dict | None):
    browser = world.browsers[visitor]
    if method == "GET":
        return browser.get(url)
    return browser.post(url, data={**(form or {}), "csrf_token": world.tokens[visitor]})


def goes_to_sign_in(response) -> bool:
    return response.status_code in (301, 302, 303, 307, 308) and \
        urlsplit(response.headers.get("Location", "")).path == "/staff/login"


def leaked(response) -> list[bytes]:
    return [needle for needle in LEAKS if needle in response.data]


def test_every_route_admits_only_its_roles_and_leaks_nothing(app, world):
    problems, tried = [], 0
    for rule, method, url, form, guessed in requests_for(app, world):
        allowed = classify(rule.rule)
        # Refused visitors first: the allowed one may change the case (close, forward…).
        for visitor in sorted(VISITORS, key=lambda v: v in allowed):
            response = send(world, visitor, method, url, form)
            tried += 1
            where = f"{method} {url} as {visitor}: {response.status_code}"
            # Only the key holder may ever see content: not even an allowed coordinator,
            # custodian or admin (design: "never content", "no case content, no identities").
            if visitor != "key_handler" and leaked(response):
                problems.append(f"{where} LEAKED {leaked(response)}")
            if visitor in allowed:
                if response.status_code == 403 or goes_to_sign_in(response):
                    problems.append(f"{where} (should be allowed)")
                elif response.status_code >= 500 or (response.status_code == 404
                                                      and not guessed):
                    problems.append(f"{where} (unexpected)")
                continue
            if visitor in ANONYMOUS:
                if not goes_to_sign_in(response):
                    problems.append(f"{where} (should redirect to /staff/login)")
            elif response.status_code != 403:
                problems.append(f"{where} (should be 403)")
    assert tried > 100
    assert not problems, "\n".join(problems)


def test_exempt_routes_leak_nothing_to_anyone(app, world):
    """Public pages (sign-in, activation, sign-out) as the anonymous visitor and the
    reporter: nothing of the case, whatever is sent."""
    for rule in staff_rules(app):
        if not is_exempt(rule) or rule.endpoint.endswith("static"):
            continue
        for url, _, _ in expansions(rule, world):
            for visitor in ("anonymous", "reporter", "half_signed_in"):
                for method in ("GET", "POST"):
                    if method in rule.methods:
                        response = send(world, visitor, method, url, {})
                        assert not leaked(response), (method, url, visitor)
                        assert response.status_code < 500, (method, url, visitor)


def test_holder_reads_everything_and_the_excluded_handler_sees_no_trace(world):
    holder, excluded = world.browsers["key_handler"], world.browsers["excluded"]
    download = holder.get(f"/staff/cases/{world.case.id}/files/{world.file_id}")
    assert download.status_code == 200 and download.data == FILE_CONTENT
    inbox = excluded.get("/staff/cases")
    assert inbox.status_code == 200
    assert world.case.reference not in inbox.get_data(as_text=True)
    assert world.case.reference in holder.get("/staff/cases").get_data(as_text=True)


def test_case_access_refuses_a_handler_without_the_key_before_validating(world):
    for action in sorted(MEMBER_ACTIONS):
        response = world.browsers["excluded"].post(
            f"/staff/cases/{world.case.id}/access/{action}",
            data={"csrf_token": world.tokens["excluded"]})
        assert response.status_code == 403, action


def test_file_ids_cannot_be_borrowed_from_another_case(world, submit, make_handler):
    """The holder of case A asks for case B's file through case A's URL: refused, even when
    the same person holds both cases."""
    response, _ = submit(what_happened="second report",
                         files=[(io.BytesIO(b"other-case-file " * 8), "other.txt")])
    assert response.status_code == 200
    second = db.session.scalar(select(Case).order_by(Case.id.desc()))
    assert second.id != world.case.id
    other_file = db.session.scalar(select(Attachment.id).where(Attachment.case_id == second.id))
    holder = world.browsers["key_handler"]
    assert holder.get(f"/staff/cases/{second.id}/files/{other_file}").status_code == 200
    for url in (f"/staff/cases/{world.case.id}/files/{other_file}",
                f"/staff/cases/{second.id}/files/{world.file_id}",
                f"/staff/cases/{world.case.id}/files/999999"):
        response = holder.get(url)
        assert response.status_code == 403, url
        assert b"other-case-file" not in response.data and FILE_CONTENT[:40] not in response.data

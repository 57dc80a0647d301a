"""CSRF on every state-changing route, generated from the URL map.

Every rule that accepts POST, public or back office, is posted with a complete, valid form but
without a usable CSRF token (none, empty, forged, issued to another browser, issued to the same
browser's other side of the portal, or a JSON body with no token header), by a browser signed in
as whoever the route is for, so that only the CSRF check stands between the request and the
action. Each must be refused (400, the "form expired" page) and nothing may change in any table.
A control test sends the same requests with the token for a few routes and sees them change
the database: the forms and sessions used here are good enough to reach the action.

A new POST route is covered automatically. One this file cannot sign in for or fill in (a new
URL variable, a new <action> endpoint) fails test_every_post_route_is_refused_without_a_token:
add it to VISITORS_BY_PREFIX, FILLERS or FORMS below.
"""
import base64
import io
import json
import re
import time
from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.routing import AnyConverter

from app.admin.routes import STATE_ACTIONS
from app.backoffice.routes import ACTIONS, MEMBER_ACTIONS
from app.extensions import db
from app.models import (
    Attachment,
    Case,
    IdentityRequest,
    OutreachKind,
    OutreachPlatform,
    PlanIndicator,
    Role,
)
from app.services.indicators import outreach
from app.services.indicators.periods import local_today
from app.services.plan import data as plan_data
from app.services.plan import evidence as plan_evidence
from app.services.plan.loader import store_plan
from app.services.risks import register as risk_register
from app.services.staff import invitations, totp
from tests.conftest import CSRF_RE, TOTP_SECRET_RE, csrf_token, report_fields
from tests.support.staff import make_operator

CSRF_REFUSAL = "The form expired or was sent from another page."
# Who must be signed in for a request to reach the view (longest prefix first wins).
VISITORS_BY_PREFIX = [
    ("/follow-up/", "reporter"),          # the reporter's session cookie
    ("/follow-up", "anonymous"),          # the receipt login itself
    ("/report", "anonymous"),
    ("/voice/", "anonymous"),          # hearing a recording disguised before sending
    ("/staff/admin/", "admin"),
    ("/staff/stats", "coordinator"),
    ("/staff/outreach", "coordinator"),
    ("/staff/plan", "coordinator"),
    ("/staff/risks", "coordinator"),
    ("/staff/self-assessment", "coordinator"),
    ("/staff/identity-requests", "custodian"),
    ("/staff/platform/", "operator"),     # the platform operator's pages
    ("/staff/login/code", "half_signed_in"),
    ("/staff/login", "anonymous"),
    ("/staff/activate/", "anonymous"),    # the invitation link is the credential
    ("/staff/", "holder"),                # cases, intake, password, logout: a key-holding handler
]
# Volatile columns a refused request may touch in the session without committing.
VOLATILE = {"last_seen_at"}


def visitor_for(rule) -> str | None:
    for prefix, visitor in sorted(VISITORS_BY_PREFIX, key=lambda p: -len(p[0])):
        if rule.rule == prefix or rule.rule.startswith(prefix):
            return visitor
    return None


@dataclass
class World:
    case_id: int
    file_id: int
    request_id: int
    spare_id: int
    invitation_id: int
    invitation_token: str
    outreach_id: int
    measure_id: int
    plan_evidence_id: int
    risk_id: int
    receipt: str
    members: dict
    browsers: dict = field(default_factory=dict)
    slug: str = ""


@pytest.fixture
def world(app, client, institution, submit, follow_up, make_handler, sign_in) -> World:
    institution.identity_policy = "custodian"  # so that an identity request exists
    db.session.commit()
    holder = make_handler("Ana Holder")
    half = make_handler("Half Signed-In")
    spare = make_handler("Spare Colleague")
    coordinator = make_handler("Carmen Coordinator", roles=(Role.COORDINATOR,))
    custodian = make_handler("Elena Custodian", roles=(Role.CUSTODIAN,))
    admin = make_handler("Adi Admin", roles=(Role.ADMIN,))
    response, receipt = submit(identity_choice="identified", name="Ion Reporter",
                               email="ion@example.org",
                               files=[(io.BytesIO(b"evidence"), "dovada.txt")])
    assert response.status_code == 200 and receipt
    case = db.session.scalar(select(Case))
    file_id = db.session.scalar(select(Attachment.id))

    assert follow_up(receipt).status_code == 302  # `client` is now the reporter's browser
    browsers = {"reporter": client, "anonymous": app.test_client()}
    for name, member in (("holder", holder), ("coordinator", coordinator),
                         ("custodian", custodian), ("admin", admin),
                         ("operator", make_operator(app))):
        browsers[name] = sign_in(member)
    half_browser = app.test_client()
    token = csrf_token(half_browser, "/staff/login")
    assert half_browser.post("/staff/login", data={
        "email": half.email, "password": half.password, "csrf_token": token}).status_code == 302
    page = half_browser.get("/staff/login/code").get_data(as_text=True)
    secret = TOTP_SECRET_RE.search(page).group(1).replace(" ", "")
    half.totp_secret_raw = base64.b32decode(secret + "=" * (-len(secret) % 8))
    browsers["half_signed_in"] = half_browser

    holder_page = browsers["holder"].get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert browsers["holder"].post(f"/staff/cases/{case.id}/identity-request", data={
        "reveal-reason": "Needed for a witness hearing.",
        "csrf_token": CSRF_RE.search(holder_page).group(1)}).status_code == 302
    request_id = db.session.scalar(select(IdentityRequest.id))

    invitation, link = invitations.invite(admin, name="New Person", email="new@baltati.example",
                                          roles=[Role.HANDLER], public_url="http://localhost")
    item = outreach.create(coordinator, outreach.OutreachEntry(
        kind=OutreachKind.POST, platform=OutreachPlatform.FACEBOOK,
        published_on=local_today(), title="Integrity week", link="https://example.org/post"))
    plan = store_plan(institution, plan_data.shipped())
    db.session.flush()
    measure = plan.objectives[0].measures[2]  # 1.3, with a typed count
    evidence = plan_evidence.add_evidence(coordinator, measure.id, local_today().year, [
        FileStorage(io.BytesIO(b"minuta"), filename="minuta.txt")])[0]
    risk = risk_register.add(coordinator, risk_register.RiskEntry(
        activity="Achiziții publice", description="Specificații restrictive", probability=3,
        impact=4, owner="Compartimentul achiziții", identified_on=local_today()))
    db.session.commit()
    return World(case_id=case.id, file_id=file_id, request_id=request_id, spare_id=spare.id,
                 invitation_id=invitation.id, invitation_token=link.rsplit("/", 1)[1],
                 outreach_id=item.id, measure_id=measure.id, plan_evidence_id=evidence.id,
                 risk_id=risk.id,
                 receipt=receipt,
                 members={"holder": holder, "half": half, "admin": admin,
                          "coordinator": coordinator},
                 browsers=browsers, slug=institution.slug)


# --- filling URLs and forms ----------------------------------------------------------------------

ACTION_SETS = {
    "backoffice.case_action": ACTIONS,
    "backoffice.case_access": MEMBER_ACTIONS,
    "admin.member_action": STATE_ACTIONS,
}
FILLERS = {
    "case_id": lambda w: w.case_id,
    "file_id": lambda w: w.file_id,
    "request_id": lambda w: w.request_id,
    "member_id": lambda w: w.spare_id,
    "invitation_id": lambda w: w.invitation_id,
    "item_id": lambda w: w.outreach_id,
    "token": lambda w: w.invitation_token,
    "measure_id": lambda w: w.measure_id,
    "evidence_id": lambda w: w.plan_evidence_id,
    "risk_id": lambda w: w.risk_id,
    "slug": lambda w: w.slug,
}


def expansions(rule, world: World) -> list[str]:
    """Every URL the rule stands for, with real ids; AssertionError names what cannot be
    filled (a new variable or a new <action> endpoint needs a line in FILLERS/ACTION_SETS)."""
    choices: dict[str, list] = {}
    for name, converter in rule._converters.items():
        if name == "action":
            assert rule.endpoint in ACTION_SETS, f"{rule.rule}: which <action> values?"
            choices[name] = sorted(ACTION_SETS[rule.endpoint])
        elif isinstance(converter, AnyConverter):
            choices[name] = sorted(converter.items)
        else:
            assert name in FILLERS, f"{rule.rule}: nothing fills <{name}>"
            choices[name] = [FILLERS[name](world)]
    combos = [{}]
    for name, options in choices.items():
        combos = [{**combo, name: option} for combo in combos for option in options]
    return [rule.build(values, append_unknown=False)[1] for values in combos]


TODAY = date.today().isoformat()
CASE_FORMS = {
    "triage": {"triage-regime": "petition", "triage-category": "other"},
    "acknowledge": {"ack-message": "Received, thank you."},
    "close": {"close-outcome": "dismissed", "close-message": "Closed after examination."},
    "forward": {"fwd-authority": "DNA", "fwd-forwarded_on": TODAY,
                "fwd-message": "Sent to the competent authority."},
    "extend": {"ext-message": "We need 15 more days."},
    "message": {"msg-body": "A question for you."},
    "note": {"note-body": "An internal note."},
    "identity-request": {"reveal-reason": "Needed again for the hearing."},
    "redact": {"redact-target": "report:what_happened", "redact-passage": "money",
               "redact-reason": "Manifestly irrelevant personal data here."},
}


def form_for(rule, url: str, world: World) -> dict:
    """A complete, valid form: without the CSRF check the action would happen."""
    endpoint, action = rule.endpoint, url.rsplit("/", 1)[-1]
    holder, half = world.members["holder"], world.members["half"]
    forms = {
        "public.report": lambda: report_fields(),
        "public.followup_login": lambda: {"receipt": world.receipt},
        "public.followup_message": lambda: {"body": "One more detail."},
        "auth.login": lambda: {"email": holder.email, "password": holder.password},
        "auth.second_factor": lambda: {"code": totp.code_at(half.totp_secret_raw, time.time())},
        "auth.change_password": lambda: {"current_password": holder.password,
                                         "new_password": "n" * 16, "confirm": "n" * 16},
        "backoffice.case_action": lambda: {
            **CASE_FORMS.get(action, {}),
            **({"delfile-file": str(world.file_id),
                "delfile-reason": "Manifestly irrelevant personal data here."}
               if action == "delete-file" else {})},
        "backoffice.case_access": lambda: {f"{action}-member": str(world.spare_id)},
        "backoffice.reveal_identity": lambda: {"reveal-reason": "Needed to contact them."},
        "backoffice.identity_requests": lambda: {"request_id": str(world.request_id),
                                                 "decision": "approve",
                                                 "reason": "Needed for the hearing."},
        "backoffice.intake_form": lambda: {
            "channel": "post", "received_on": TODAY, "category": "other",
            "what_happened": "A letter arrived.", "anonymous": "y", "issue_receipt": "y"},
        "admin.invite": lambda: {"name": "Other Person", "email": "other@baltati.example",
                                 "roles": "handler"},
        "admin.change_roles": lambda: {"roles": ["handler", "coordinator"]},
        "admin.institution_settings": lambda: {
            "identity_policy": "direct", "retention_years": "7",
            "acknowledge_reminder_days": "2", "answer_reminder_days": "10",
            "mail_sender": "portal@baltati.example", "categories": ["bribery", "other"]},
        "admin.activate": lambda: {"password": "p" * 16, "confirm": "p" * 16,
                                   "code": "123456", "enrolment": ""},
        "stats.outreach_new": lambda: {"kind": "post", "platform": "facebook",
                                       "published_on": TODAY, "title": "Another post"},
        "stats.outreach_edit": lambda: {"kind": "post", "platform": "facebook",
                                        "published_on": TODAY, "title": "Changed title"},
        "plan.measure_status": lambda: {"status": "implemented"},
        "plan.measure_progress": lambda: {"happened_on": TODAY, "text": "Minuta semnată."},
        "plan.measure_values": lambda: {f"value_{indicator}": "7" for indicator in
                                        plan_indicator_ids(world.measure_id)},
        "plan.evidence_visibility": lambda: {"public": "y"},
        "plan.publication": lambda: {"published": "y", "publish_status": "y"},
        "plan.open_data_page": lambda: {"title": "Sesizări 2025",
                                        "url": "https://data.gov.ro/dataset/sesizari",
                                        "published_on": TODAY},
        "plan.start": lambda: {"source": "empty", "title": "Plan nou"},
        "platform.new_institution": lambda: {"name": "Comuna Nouă", "county": "Iași",
                                             "admin_email": "primar@noua.example"},
        "platform.delete": lambda: {"confirm_slug": world.slug},
        "plan.measure_new": lambda: {"objective_number": "4", "code": "4.9",
                                     "text": "O măsură nouă"},
        "plan.measure_edit": lambda: {"objective_number": "1", "code": "1.3",
                                      "text": "Consultarea revizuită"},
    }
    return forms.get(endpoint, dict)()


def plan_indicator_ids(measure_id: int) -> list[int]:
    return list(db.session.scalars(select(PlanIndicator.id).where(
        PlanIndicator.measure_id == measure_id)))


def post_rules(app) -> list:
    return [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]


def snapshot() -> dict:
    """Every row of every table (volatile columns aside), as committed."""
    db.session.rollback()
    tables = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name not in VOLATILE]
        rows = db.session.execute(select(*columns)).all()
        tables[table.name] = sorted(repr(tuple(row)) for row in rows)
    return tables


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def tokens_for(world: World, visitor: str, url: str) -> dict:
    """The unusable tokens: each names what a forged or replayed request could carry."""
    staff_side = url.startswith("/staff")
    others = [name for name in world.browsers if name != visitor]
    other_browser = world.browsers[others[0]]
    same_browser = world.browsers[visitor]
    return {
        "missing": None,
        "empty": "",
        "forged": "IjdkNGY2ZjE5ZDk0ZjQ4ZDgxNTM5ZTA3YTc0ZTg4NTM2In0.aGVsbG8.Zm9yZ2Vk",
        "another browser's": csrf_token(other_browser,
                                        "/staff/login" if staff_side else "/report"),
        "the other side's": csrf_token(same_browser,
                                       "/report" if staff_side else "/staff/login"),
    }


def test_every_post_route_is_refused_without_a_token(app, world):
    problems, unclassified, tried, covered = [], [], 0, set()
    for rule in sorted(post_rules(app), key=lambda r: r.rule):
        visitor = visitor_for(rule)
        if visitor is None:
            unclassified.append(f"{rule.rule} ({rule.endpoint}): who signs in for it?")
            continue
        try:
            urls = expansions(rule, world)
        except AssertionError as error:
            unclassified.append(str(error))
            continue
        browser = world.browsers[visitor]
        for url in urls:
            form = form_for(rule, url, world)
            for variant, token in tokens_for(world, visitor, url).items():
                data = dict(form) if token is None else {**form, "csrf_token": token}
                before = snapshot()
                response = browser.post(url, data=data)
                after = snapshot()
                tried += 1
                where = f"POST {url} as {visitor}, token {variant}: {response.status_code}"
                if response.status_code != 400 or CSRF_REFUSAL not in response.get_data(
                        as_text=True):
                    problems.append(f"{where} (expected the CSRF refusal)")
                if changed_tables(before, after):
                    problems.append(f"{where} CHANGED {changed_tables(before, after)}")
            # A JSON body with the form inside and no token header.
            before = snapshot()
            response = browser.post(url, data=json.dumps(form), content_type="application/json")
            tried += 1
            if response.status_code != 400 or changed_tables(before, snapshot()):
                problems.append(f"POST {url} as {visitor}, JSON without a token header: "
                                f"{response.status_code}")
            covered.add(rule.endpoint)
    assert not unclassified, (
        "POST routes this test cannot sign in for or fill in; add them to VISITORS_BY_PREFIX, "
        f"FILLERS or ACTION_SETS in tests/test_csrf_everywhere.py: {unclassified}")
    assert not problems, "\n".join(problems)
    assert tried > 100 and len(covered) == len({r.endpoint for r in post_rules(app)})
    # The browsers were signed in all along: the refusals were the CSRF check's, not a login's.
    for visitor, page in (("holder", f"/staff/cases/{world.case_id}"),
                          ("coordinator", "/staff/outreach"), ("custodian",
                                                               "/staff/identity-requests"),
                          ("admin", "/staff/admin/"), ("reporter", "/follow-up/case"),
                          ("half_signed_in", "/staff/login/code"),
                          ("operator", "/staff/platform/")):
        assert world.browsers[visitor].get(page).status_code == 200, visitor


CONTROL = [
    ("holder", "backoffice.case_action", "/staff/cases/{case_id}/note", {"note"}),
    ("holder", "backoffice.intake_form", "/staff/intake", {"case"}),
    ("reporter", "public.followup_message", "/follow-up/message", {"message"}),
    ("anonymous", "public.report", "/report", {"case", "receipt"}),
    ("admin", "admin.invite", "/staff/admin/invite", {"invitation"}),
    ("admin", "admin.member_action", "/staff/admin/staff/{member_id}/deactivate",
     {"staff_member"}),
    ("coordinator", "stats.outreach_new", "/staff/outreach/new", {"outreach_item"}),
    ("coordinator", "plan.measure_progress", "/staff/plan/measures/{measure_id}/progress",
     {"plan_progress"}),
    ("half_signed_in", "auth.second_factor", "/staff/login/code", {"staff_session"}),
    ("operator", "platform.new_institution", "/staff/platform/institutions/new",
     {"institution", "invitation"}),
]


@pytest.mark.parametrize("visitor, endpoint, url, tables", CONTROL,
                         ids=[c[1] + ":" + c[2].rsplit("/", 1)[-1] for c in CONTROL])
def test_control_the_same_requests_with_the_token_do_change_things(app, world, visitor,
                                                                   endpoint, url, tables):
    """Without this, a form that never validated would pass the test above trivially."""
    rule = next(r for r in post_rules(app) if r.endpoint == endpoint)
    url = url.format(case_id=world.case_id, member_id=world.spare_id,
                     measure_id=world.measure_id)
    browser = world.browsers[visitor]
    source = "/staff/login" if url.startswith("/staff") else "/report"
    if visitor == "reporter":
        source = "/follow-up/case"
    token = csrf_token(browser, source)
    before = snapshot()
    response = browser.post(url, data={**form_for(rule, url, world), "csrf_token": token})
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:2000]
    changed = set(changed_tables(before, snapshot()))
    assert tables <= changed, (changed, tables)


def test_the_csrf_refusal_is_a_page_a_person_understands(app, world):
    for visitor, url in (("anonymous", "/report"), ("holder", "/staff/intake")):
        response = world.browsers[visitor].post(url, data={})
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert CSRF_REFUSAL in page and "Nothing was saved" in page
        assert re.search(r"<h1>[^<]+</h1>", page)

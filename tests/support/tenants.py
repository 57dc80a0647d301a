"""Institutions filled with everything a tenant holds, for the isolation tests.

`populate(app, institution, mark)` gives an institution its staff (a handler holding the case
key, a spare handler, a coordinator, a custodian, an admin and a plan contributor), the shipped
integrity plan with the contributor responsible for every measure, and a report sent through
its own public form at `/<slug>/report` with a named reporter, evidence, a message from the
reporter, a note and a message from the handler and an identity request (policy `custodian`);
plus an invitation, an outreach post, a plan evidence file and a corruption risk. Every piece
of text carries `mark`, so a page or a stored byte that shows it is found by a plain search.
"""
import io
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select, text
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import (
    Attachment,
    Case,
    IdentityRequest,
    Institution,
    MeasureAssignee,
    OutreachKind,
    OutreachPlatform,
    PlanMeasure,
    Role,
)
from app.services.indicators import outreach
from app.services.indicators.periods import local_today
from app.services.plan import data as plan_data
from app.services.plan import evidence as plan_evidence
from app.services.plan.loader import store_plan
from app.services.risks import register as risk_register
from app.services.staff import invitations
from app.services.staff import members as staff_service
from tests.conftest import RECEIPT_RE, report_fields
from tests.support.forms import CSRF_RE, csrf_token
from tests.support.staff import sign_in_client

ROLES = {
    "key_handler": [Role.HANDLER],
    "spare": [Role.HANDLER],
    "coordinator": [Role.COORDINATOR],
    "custodian": [Role.CUSTODIAN],
    "admin": [Role.ADMIN],
    "contributor": [Role.PLAN_CONTRIBUTOR],
}


@dataclass
class Tenant:
    institution: Institution
    mark: str
    members: dict
    case_id: int
    file_id: int
    request_id: int
    invitation_id: int
    invitation_token: str
    outreach_id: int
    measure_id: int
    plan_evidence_id: int
    risk_id: int
    receipt: str
    file_content: bytes
    texts: dict = field(default_factory=dict)  # field -> the marked text it holds
    extra: list = field(default_factory=list)  # more secrets a test added (tests may fill)

    @property
    def prefix(self) -> str:
        return f"/{self.institution.slug}"

    @property
    def needles(self) -> list[bytes]:
        """What no one outside the institution may ever be shown: the mark is in every text
        (report, reporter, files, messages, notes, staff names and e-mails, plan, risks)."""
        return [self.mark.encode(), self.file_content[:40]]


def new_mark(prefix: str) -> str:
    return prefix + secrets.token_hex(6)


def add_member(institution, key: str, mark: str, kdf_params, roles=None):
    password = secrets.token_urlsafe(16)
    member = staff_service.add_staff(
        institution, email=f"{key}.{mark}@{institution.slug}.example",
        name=f"{key.title()} {mark}", roles=roles or ROLES[key], password=password,
        kdf_params=kdf_params)
    db.session.commit()
    member.password = password
    return member


def post_report(client, prefix: str, files=None, **fields):
    data = report_fields(**fields)
    data["csrf_token"] = csrf_token(client, f"{prefix}/report")
    if files:
        data["evidence"] = files
    response = client.post(f"{prefix}/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return RECEIPT_RE.search(response.get_data(as_text=True)).group(1).replace(" ", "")


def follow_up_login(client, prefix: str, receipt: str):
    return client.post(f"{prefix}/follow-up", data={
        "receipt": receipt, "csrf_token": csrf_token(client, f"{prefix}/follow-up")})


def populate(app, institution, mark: str, kdf_params) -> Tenant:
    institution.identity_policy = "custodian"  # so that an identity request exists
    db.session.commit()
    members = {key: add_member(institution, key, mark, kdf_params) for key in ROLES}
    plan = store_plan(institution, plan_data.shipped())
    db.session.flush()
    measures = list(db.session.scalars(select(PlanMeasure).where(PlanMeasure.plan_id == plan.id)))
    for measure in measures:
        db.session.add(MeasureAssignee(measure_id=measure.id,
                                       staff_id=members["contributor"].id))
    db.session.commit()

    prefix = f"/{institution.slug}"
    texts = {name: f"{mark}-{name}" for name in (
        "what_happened", "when_where", "persons_involved", "how_known", "name",
        "reporter_message", "note", "staff_message", "file_name")}
    file_content = f"{mark}-file-content ".encode() * 20
    reporter = app.test_client()
    receipt = post_report(
        reporter, prefix, identity_choice="identified", name=texts["name"],
        email=f"{mark}@reporter.example", phone="+40 712 345 678",
        what_happened=texts["what_happened"], when_where=texts["when_where"],
        persons_involved=texts["persons_involved"], how_known=texts["how_known"],
        files=[(io.BytesIO(file_content), f"{texts['file_name']}.txt")])
    case = db.session.scalar(select(Case).where(Case.institution_id == institution.id)
                             .order_by(Case.id.desc()))
    file_id = db.session.scalar(select(Attachment.id).where(Attachment.case_id == case.id))
    assert follow_up_login(reporter, prefix, receipt).status_code == 302
    token = csrf_token(reporter, f"{prefix}/follow-up/case")
    assert reporter.post(f"{prefix}/follow-up/message", data={
        "body": texts["reporter_message"], "csrf_token": token}).status_code == 302

    holder = sign_in_client(app.test_client(), members["key_handler"])
    page = holder.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert texts["what_happened"] in page and texts["file_name"] in page  # the marks are real
    token = CSRF_RE.search(page).group(1)
    for action, data in (("note", {"note-body": texts["note"]}),
                         ("message", {"msg-body": texts["staff_message"]}),
                         ("identity-request", {"reveal-reason": f"{mark} witness hearing"})):
        response = holder.post(f"/staff/cases/{case.id}/{action}",
                               data={**data, "csrf_token": token})
        assert response.status_code == 302, (action, response.get_data(as_text=True)[:1000])
    request_id = db.session.scalar(select(IdentityRequest.id).where(
        IdentityRequest.case_id == case.id))
    assert request_id is not None

    coordinator = members["coordinator"]
    invitation, link = invitations.invite(
        members["admin"], name=f"Invitee {mark}", email=f"invitee.{mark}@example.org",
        roles=[Role.HANDLER], public_url="http://localhost")
    item = outreach.create(coordinator, outreach.OutreachEntry(
        kind=OutreachKind.POST, platform=OutreachPlatform.FACEBOOK, published_on=local_today(),
        title=f"{mark} integrity week", link="https://example.org/post"))
    measure = measures[2]
    evidence = plan_evidence.add_evidence(coordinator, measure.id, local_today().year, [
        FileStorage(io.BytesIO(f"{mark} minutes".encode()), filename=f"{mark}-minutes.txt")])[0]
    risk = risk_register.add(coordinator, risk_register.RiskEntry(
        activity=f"{mark} procurement", description=f"{mark} restrictive specifications",
        probability=3, impact=4, owner=f"{mark} office", identified_on=local_today()))
    db.session.commit()
    return Tenant(institution=institution, mark=mark, members=members, case_id=case.id,
                  file_id=file_id, request_id=request_id, invitation_id=invitation.id,
                  invitation_token=link.rsplit("/", 1)[1], outreach_id=item.id,
                  measure_id=measure.id, plan_evidence_id=evidence.id, risk_id=risk.id,
                  receipt=receipt, file_content=file_content, texts=texts)


# --- what an institution holds, row by row ------------------------------------------------------

def _institution_of(table: str, alias: str, by_parent: dict, depth: int = 0) -> str:
    if table not in by_parent:
        return f"{alias}.institution_id"
    column, parent = by_parent[table]
    inner = f"p{depth}"
    # Names from the migrations' lists, not from input.
    return (f'(SELECT {_institution_of(parent, inner, by_parent, depth + 1)} '  # noqa: S608
            f'FROM "{parent}" {inner} WHERE {inner}.id = {alias}.{column})')


def rows_of(institution_id: int, tables: set[str], by_parent: dict) -> dict[str, list[str]]:
    """Every stored row of one institution, table by table (its own row and its staff
    accounts included), read with no scope: any change another tenant makes shows here."""
    found = {}
    with db.engine.connect() as connection:
        for table in sorted(tables):
            rows = connection.execute(text(
                f'SELECT t.* FROM "{table}" t '  # noqa: S608  # nosec B608
                f'WHERE {_institution_of(table, "t", by_parent)} = :i'), {"i": institution_id})
            found[table] = sorted(repr(tuple(row)) for row in rows)
        found["institution"] = [repr(tuple(row)) for row in connection.execute(text(
            "SELECT * FROM institution WHERE id = :i"), {"i": institution_id})]
        found["staff_account"] = sorted(repr(tuple(row)) for row in connection.execute(text(
            "SELECT * FROM staff_account WHERE id IN "
            "(SELECT account_id FROM staff_member WHERE institution_id = :i)"),
            {"i": institution_id}))
    return found

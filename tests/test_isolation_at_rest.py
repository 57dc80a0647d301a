"""Nothing in clear, with several institutions on one database and one upload folder.

Three communes each take a report through their own public form with a distinct mark in every
field (what happened, when and where, persons, how known, the reporter's name, e-mail and
phone, the evidence's name and content), a message from the reporter, a note and messages
from the handler (one with a file), an identity request with its reason and the custodian's
decision with its reason, a phone report recorded by hand (text, transcript, the caller's
identity, a scanned document, its receipt) and an integrity-plan evidence file. Then every stored byte (each value of each row of
each table, the SQLite files themselves, every file in the upload folder: tests/support/
database.py) is searched for every one of those texts and for the receipts: none is there.
What is kept in clear by design (staff names, a risk's wording, an outreach title) carries the
same mark but is not searched for.
"""
import io
import secrets
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Case, IdentityRequest, Message, Note, PlanEvidence
from app.services.operations.institutions import create_institution
from tests.conftest import RECEIPT_RE
from tests.support.database import every_stored_value, every_uploaded_byte
from tests.support.forms import csrf_token
from tests.support.staff import sign_in_client
from tests.support.tenants import new_mark, populate


def secrets_of(tenant) -> list[bytes]:
    mark = tenant.mark
    texts = [*tenant.texts.values(), f"{mark}@reporter.example", f"{mark} witness hearing",
             f"{mark}-decision", f"{mark} minutes", f"{mark}-minutes.txt"]
    texts += tenant.extra
    return [value.encode() for value in texts] + [tenant.file_content[:40],
                                                  tenant.receipt.encode()]


def staff_work(app, tenant) -> list[str]:
    """What the handler adds: a message with a file to the reporter, and a phone report
    recorded by hand with its transcript, the caller's identity and a scanned document."""
    mark = tenant.mark
    staff = sign_in_client(app.test_client(), tenant.members["key_handler"])
    token = csrf_token(staff, "/staff/password")
    sent = staff.post(f"/staff/cases/{tenant.case_id}/message", content_type="multipart/form-data",
                      data={"csrf_token": token, "msg-body": f"{mark}-with-file",
                            "msg-evidence": [(io.BytesIO(f"{mark}-staff-file ".encode() * 30),
                                              f"{mark}-staff-file.txt")]})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:1000]
    phone = "+40 7" + "".join(secrets.choice("0123456789") for _ in range(8))
    done = staff.post("/staff/intake", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(staff, "/staff/intake"), "channel": "phone", "platform": "",
        "received_on": date.today().isoformat(), "category": "abuse_of_office",
        "what_happened": f"{mark}-intake-text", "when_where": f"{mark}-intake-when",
        "persons_involved": f"{mark}-intake-persons", "transcript": f"{mark}-transcript",
        "reporter_signed": "y", "work_context": "y", "name": f"{mark}-intake-name",
        "email": f"{mark}-intake@example.org", "phone": phone, "issue_receipt": "y",
        "evidence": [(io.BytesIO(f"{mark}-scan scanned".encode()), f"{mark}-scan.pdf")]})
    assert done.status_code == 200, done.get_data(as_text=True)[:2000]
    receipt = RECEIPT_RE.search(done.get_data(as_text=True)).group(1).replace(" ", "")
    return [f"{mark}-with-file", f"{mark}-staff-file ", f"{mark}-staff-file.txt",
            f"{mark}-intake-text", f"{mark}-intake-when", f"{mark}-intake-persons",
            f"{mark}-transcript", f"{mark}-intake-name", f"{mark}-intake@example.org",
            phone, phone.replace(" ", ""), f"{mark}-scan", receipt]


def test_nothing_of_any_institution_is_stored_in_clear(app, kdf_params, migrated_database,
                                                       upload_folder):
    names = ("Comuna Alfa", "Comuna Beta", "Comuna Gama")
    tenants = []
    for name in names:
        institution, _ = create_institution(name)
        db.session.commit()
        tenant = populate(app, institution, new_mark("rq"), kdf_params)
        custodian = sign_in_client(app.test_client(), tenant.members["custodian"])
        page = custodian.get("/staff/identity-requests").get_data(as_text=True)
        assert f"{tenant.mark} witness hearing" in page  # opened with the custodian's key
        assert custodian.post("/staff/identity-requests", data={
            "request_id": str(tenant.request_id), "decision": "deny",
            "reason": f"{tenant.mark}-decision",
            "csrf_token": csrf_token(custodian, "/staff/identity-requests")}).status_code == 302
        tenant.extra = staff_work(app, tenant)
        tenants.append(tenant)

    # Each institution really holds its rows and files, so "none in clear" is not vacuous.
    ids = [tenant.institution.id for tenant in tenants]
    for model, least in ((Case, 2), (Message, 3), (Note, 1), (Attachment, 1),
                         (IdentityRequest, 1), (PlanEvidence, 1)):
        counts = dict(db.session.execute(select(model.institution_id, func.count())
                                         .group_by(model.institution_id)).all())
        assert all(counts.get(i, 0) >= least for i in ids), (model.__name__, counts)
    decided = db.session.scalars(select(IdentityRequest)).all()
    assert len(decided) == 3 and all(row.decided_at is not None for row in decided)

    stored, uploaded = every_stored_value(migrated_database), every_uploaded_byte(upload_folder)
    assert uploaded, "the files were stored"
    # The marks are there, where the design keeps them in clear: the scan sees the rows.
    assert all(f"Key_Handler {tenant.mark}".encode() in stored for tenant in tenants)
    found = [(tenant.institution.name, needle) for tenant in tenants
             for needle in secrets_of(tenant) if needle in stored or needle in uploaded]
    assert not found, f"in clear: {found}"

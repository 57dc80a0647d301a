"""The register of reports: produced only by a handler, over the cases they can open; naming
reporters is audited with a sealed reason; the page, DOCX and PDF read back with diacritics."""
import io
import json
import logging
from datetime import date

import docx
import pypdf
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Case, Role
from app.services.access.identity import IdentityRefused
from app.services.errors import NotAuthorised
from app.services.indicators.periods import Period, local_today
from app.services.papers import register
from app.services.transaction import unit_of_work
from tests.conftest import csrf_token
from tests.support.staff import signed_in_access

NAME, EMAIL = "Ștefan Țăranu-Îndrăzneț", "stefan.reporter@example.org"
REASON = "Registrul anual cerut de Legea nr. 361/2022, art. 9."


def _period() -> Period:
    today = local_today()
    return Period.between(today.replace(month=1, day=1), today)


def _latest() -> Case:
    return db.session.scalar(select(Case).order_by(Case.id.desc()))


@pytest.fixture
def reports(submit, make_handler):
    """A handler, a colleague the second reporter excluded, an identified report, an
    anonymous one (excluding the colleague)."""
    handler = make_handler("Ana Popescu")
    colleague = make_handler("Radu Suspect")
    submit(identity_choice="identified", name=NAME, email=EMAIL, phone="")
    identified = _latest()
    submit(excluded=str(colleague.id))
    anonymous = _latest()
    return handler, colleague, identified, anonymous


def _audit(action) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_only_a_handler_produces_it_and_only_over_cases_they_open(
        reports, make_handler, institution, kdf_params):
    handler, colleague, identified, anonymous = reports
    for roles in ((Role.COORDINATOR,), (Role.ADMIN,), (Role.CUSTODIAN,)):
        other = make_handler("Alt Rol", roles=roles)
        with pytest.raises(NotAuthorised), unit_of_work():
            register.register_rows(signed_in_access(institution, other, kdf_params),
                                   _period(), REASON)
    access = signed_in_access(institution, handler, kdf_params)
    with pytest.raises(IdentityRefused), unit_of_work():
        register.register_rows(access, _period(), "scurt")
    assert _audit("register_produced") == []

    with unit_of_work():
        rows = register.register_rows(access, _period(), REASON)
    assert [row.reference for row in rows] == [identified.reference, anonymous.reference]
    assert [register.reporter_cell(row) for row in rows] == [f"{NAME}, {EMAIL}", "ANONIM"]

    with unit_of_work():
        theirs = register.register_rows(signed_in_access(institution, colleague, kdf_params),
                                        _period(), REASON)
    assert [row.reference for row in theirs] == [identified.reference]

    # One read of an identity per named reporter, the reason sealed; one entry per register.
    reads = _audit("identity_read_for_register")
    assert len(reads) == 2 and {entry.case_id for entry in reads} == {identified.id}
    for entry in reads:
        assert set(json.loads(entry.detail)) == {"reason_sealed"}
        assert "361" not in entry.detail
    produced = _audit("register_produced")
    assert [json.loads(entry.detail)["cases"] for entry in produced] == [2, 1]


def test_custodian_policy_shows_identity_not_disclosed(institution, make_handler, submit,
                                                      kdf_params):
    institution.identity_policy = "custodian"
    db.session.commit()
    handler = make_handler("Ana Popescu")
    make_handler("Elena Custode", roles=(Role.CUSTODIAN,))
    submit(identity_choice="identified", name=NAME, email=EMAIL, phone="")
    with unit_of_work():
        rows = register.register_rows(signed_in_access(institution, handler, kdf_params),
                                      _period(), REASON)
    assert [register.reporter_cell(row) for row in rows] == ["identitate nedezvăluită"]
    assert _audit("identity_read_for_register") == []


def _post(client, fmt, **extra):
    today = local_today()
    data = {"start": date(today.year, 1, 1).isoformat(), "end": today.isoformat(),
            "reason": REASON, "format": fmt}
    data.update(extra)
    if "csrf_token" not in data:
        data["csrf_token"] = csrf_token(client, "/staff/register")
    return client.post("/staff/register", data=data)


def test_page_docx_and_pdf_read_back_and_nothing_identifying_is_logged(
        reports, sign_in, make_handler, caplog):
    handler, _, identified, anonymous = reports
    staff = sign_in(handler)
    with caplog.at_level(logging.DEBUG):
        page = _post(staff, "page")
        document = _post(staff, "docx")
        pdf = _post(staff, "pdf")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert NAME in html and "ANONIM" in html and identified.reference in html

    assert document.status_code == 200
    assert document.headers["Content-Disposition"].startswith("attachment")
    read = docx.Document(io.BytesIO(document.data))
    cells = [cell.text for table in read.tables for row in table.rows for cell in row.cells]
    assert "Nr. de înregistrare" in cells and "Mod de soluționare" in cells
    assert f"{NAME}, {EMAIL}" in cells and "ANONIM" in cells
    assert identified.reference in cells and anonymous.reference in cells
    assert "Registrul de evidență a sesizărilor" in "\n".join(p.text for p in read.paragraphs)

    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Registrul de evidență a sesizărilor" in text
    assert "Țăranu" in text and "ANONIM" in text and identified.reference in text
    assert "Comuna Bălțați" in text

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert NAME not in logged and EMAIL not in logged and "Țăranu" not in logged
    assert len(_audit("register_produced")) == 3

    # A short reason is refused on the page, and nothing is produced.
    refused = _post(staff, "pdf", reason="scurt")
    assert refused.status_code == 400 and b"%PDF" not in refused.data
    assert len(_audit("register_produced")) == 3


def test_other_roles_get_no_register_page(reports, make_handler, sign_in):
    coordinator = sign_in(make_handler("Ion Coord", roles=(Role.COORDINATOR,)))
    assert coordinator.get("/staff/register").status_code == 403
    token = csrf_token(coordinator, "/staff/password")
    assert _post(coordinator, "pdf", csrf_token=token).status_code == 403

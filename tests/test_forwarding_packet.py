"""The forwarding packet: the report, its files list and the thread as one PDF, the files
beside it in a ZIP; the identity only with the reporter's consent recorded on the case."""
import io
import json
import zipfile
from datetime import date

import pypdf
import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Case, CaseEvent, EventKind, Outcome, Role, Status
from app.services.access.opened import open_case
from app.services.casework import messages, notes, workflow
from app.services.localtime import local_today
from app.services.papers import forwarding
from app.services.transaction import unit_of_work
from tests.conftest import csrf_token
from tests.support.http import HttpClient
from tests.support.server import gunicorn_server
from tests.support.server_log import assert_no_server_errors
from tests.support.staff import sign_in_http, signed_in_access

NAME, EMAIL, PHONE = "Ștefan Țăranu", "stefan.reporter@example.org", "+40 744 987 654"
REPORT = "Primarul a cerut bani pentru autorizația de construire în ședința din martie."
NOTE = "Notă internă: verificăm facturile."


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _identified(submit) -> Case:
    response, _ = submit(identity_choice="identified", name=NAME, email=EMAIL, phone=PHONE,
                         what_happened=REPORT,
                         files=[(io.BytesIO(_photo()), "poză.png"),
                                (io.BytesIO(b"%PDF-1.4 dovada"), "../../etc/dovadă.pdf")])
    assert response.status_code == 200
    return db.session.scalar(select(Case).order_by(Case.id.desc()))


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def _shows_identity(text: str) -> bool:
    return "Țăranu" in text or EMAIL in text or "987 654" in text


def _forward(client, case, consent: bool):
    data = {"fwd-authority": "Direcția Națională Anticorupție", "fwd-forwarded_on":
            local_today().isoformat(), "fwd-message": "Am transmis sesizarea la DNA.",
            "csrf_token": csrf_token(client, f"/staff/cases/{case.id}")}
    if consent:
        data["fwd-identity_consent"] = "y"
    return client.post(f"/staff/cases/{case.id}/forward", data=data)


def _audit(case) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.case_id == case.id, AuditEntry.action == "forwarding_packet")))


def test_without_consent_the_packet_leaves_the_identity_out(
        submit, make_handler, sign_in, institution, kdf_params):
    handler = make_handler()
    case = _identified(submit)
    staff = sign_in(handler)
    refused = staff.get(f"/staff/cases/{case.id}/forwarding-packet.zip")
    assert refused.status_code == 409 and b"Forward the case first" in refused.data
    assert _audit(case) == []
    with unit_of_work():
        opened = open_case(signed_in_access(institution, handler, kdf_params), case.id)
        messages.message_reporter(opened, "Vă rugăm să trimiteți și contractul.", [])
        notes.add_note(opened, NOTE)
    assert _forward(staff, case, consent=False).status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status is Status.CLOSED and case.outcome is Outcome.FORWARDED
    assert not forwarding.consent_recorded(case)

    page = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert f"/staff/cases/{case.id}/forwarding-packet.zip" in page
    reply = staff.get(f"/staff/cases/{case.id}/forwarding-packet.zip")
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(reply.data))
    names = archive.namelist()
    pdf_name = f"transmitere-{case.reference}.pdf"
    assert names == [pdf_name, "fisiere/01-poză.png", "fisiere/02-dovadă.pdf"]
    assert archive.read("fisiere/02-dovadă.pdf") == b"%PDF-1.4 dovada"
    assert Image.open(io.BytesIO(archive.read("fisiere/01-poză.png"))).size == (40, 30)
    text = _text(archive.read(pdf_name))
    assert f"Transmiterea sesizării {case.reference}" in text
    assert "Direcția Națională Anticorupție" in text and "autorizația de construire" in text
    assert "contractul" in text and "poză.png" in text
    assert "acordul său nu este consemnat" in text
    assert not _shows_identity(text) and "verificăm facturile" not in text
    for member in names:
        assert not _shows_identity(archive.read(member).decode("latin-1"))

    alone = staff.get(f"/staff/cases/{case.id}/forwarding-packet.pdf")
    assert alone.status_code == 200 and not _shows_identity(_text(alone.data))
    details = [json.loads(entry.detail) for entry in _audit(case)]
    assert details == [{"files": 2, "format": "zip", "identity_included": False},
                       {"files": 2, "format": "pdf", "identity_included": False}]


def test_with_consent_recorded_the_identity_goes_and_is_audited(submit, make_handler,
                                                                 sign_in):
    handler = make_handler()
    case = _identified(submit)
    staff = sign_in(handler)
    assert _forward(staff, case, consent=True).status_code == 302
    db.session.expire_all()
    events = db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.IDENTITY_CONSENT)).all()
    assert [json.loads(event.detail) for event in events] == [{"given": True}]
    assert NAME not in (events[0].detail or "")
    text = _text(staff.get(f"/staff/cases/{case.id}/forwarding-packet.pdf").data)
    assert NAME in text and EMAIL in text and PHONE in text
    assert json.loads(_audit(case)[0].detail)["identity_included"] is True


def test_other_roles_and_excluded_handlers_get_no_packet(submit, make_handler, sign_in,
                                                         institution, kdf_params):
    handler, suspect = make_handler(), make_handler("Radu Suspect")
    response, _ = submit(excluded=str(suspect.id))
    case = db.session.scalar(select(Case))
    with unit_of_work():
        workflow.forward(open_case(signed_in_access(institution, handler, kdf_params), case.id),
                         "Poliția", local_today(), "Transmis.", identity_consent=True)
    assert not forwarding.consent_recorded(case)  # anonymous: there is nothing to consent to
    assert sign_in(suspect).get(f"/staff/cases/{case.id}/forwarding-packet.zip"
                                ).status_code == 403
    coordinator = make_handler("Ion Coord", roles=(Role.COORDINATOR,))
    assert sign_in(coordinator).get(f"/staff/cases/{case.id}/forwarding-packet.pdf"
                                    ).status_code == 403
    text = _text(sign_in(handler).get(f"/staff/cases/{case.id}/forwarding-packet.pdf").data)
    assert "ANONIM" in text and "Poliția" in text


@pytest.mark.server
def test_through_gunicorn_the_zip_streams_without_the_identity(
        migrated_database, upload_folder, submit, make_handler, institution, kdf_params):
    handler = make_handler()
    case = _identified(submit)
    with unit_of_work():
        workflow.forward(open_case(signed_in_access(institution, handler, kdf_params), case.id),
                         "Agenția Națională de Integritate", date.today(), "Transmis la ANI.")
    with gunicorn_server(migrated_database, upload_folder, workers=2) as (base_url, process):
        staff = HttpClient(base_url)
        sign_in_http(staff, handler)
        reply = staff.get(f"/staff/cases/{case.id}/forwarding-packet.zip")
        process.terminate()
        output = process.communicate(timeout=15)[0]
    assert reply.status == 200, reply.body[:2000]
    assert reply.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(reply.content))
    assert archive.testzip() is None
    text = _text(archive.read(f"transmitere-{case.reference}.pdf"))
    assert "Agenția Națională de Integritate" in text and "autorizația de construire" in text
    assert not _shows_identity(text)
    assert archive.read("fisiere/02-dovadă.pdf") == b"%PDF-1.4 dovada"
    assert_no_server_errors(output.splitlines())
    assert not _shows_identity(output)


def test_archive_names_stay_inside_and_the_zip_streams_in_pieces():
    from app.papers.zipstream import stream_zip

    described = forwarding.PacketFile(3, '../../x\\y:"z".txt', "text/plain", 1)
    assert forwarding.archive_name(described) == "fisiere/03-_.._x_y__z_.txt"
    assert forwarding.archive_name(forwarding.PacketFile(1, "..", "", 0)) == "fisiere/01-fisier"
    pieces = list(stream_zip([("a.bin", (bytes([n]) * 300_000 for n in range(4)))]))
    assert len([piece for piece in pieces if piece]) > 2
    assert zipfile.ZipFile(io.BytesIO(b"".join(pieces))).read("a.bin") == b"".join(
        bytes([n]) * 300_000 for n in range(4))

"""The design's promise: a stolen database or upload folder reveals nothing a reporter typed
or sent; the receipt, a handler's password or the recovery code open it again."""
import io
import secrets
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from app.crypto import DecryptionError, envelope, keys
from app.extensions import db
from app.models import Case, KeyKind, KeyWrap, Message
from app.services.access import keys as access
from app.services.errors import NotAuthorised, SessionExpired
from app.services.intake import followup
from app.services.staff.members import unlock_private_key
from tests.conftest import csrf_token
from tests.support.database import every_stored_value, every_uploaded_byte


def jpeg_with_text(marker: str) -> bytes:
    image = Image.new("RGB", (8, 8), "white")
    exif = Image.Exif()
    exif[0x010E] = marker  # ImageDescription
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_nothing_in_clear_then_everything_opens(app, client, submit, make_handler,
                                                 migrated_database, upload_folder):
    handler = make_handler()
    marker = "zq" + secrets.token_hex(6)
    phone = "+40 7" + "".join(secrets.choice("0123456789") for _ in range(8))
    markers = {field: f"{marker}-{field}" for field in
               ("what_happened", "when_where", "persons_involved", "how_known", "name")}
    response, receipt = submit(
        identity_choice="identified", email=f"{marker}@example.org", phone=phone,
        files=[(io.BytesIO(f"file body {marker}-file".encode()), f"{marker}-name.txt"),
               (io.BytesIO(jpeg_with_text(marker)), "photo.jpg")],
        **markers)
    assert response.status_code == 200 and receipt

    assert followup_send(client, receipt, f"{marker}-message").status_code == 302

    stored, uploaded = every_stored_value(migrated_database), every_uploaded_byte(upload_folder)
    assert uploaded, "the files were stored"
    for needle in [marker.encode(), phone.replace(" ", "").encode(), phone.encode(),
                   receipt.encode()]:
        assert needle not in stored
        assert needle not in uploaded

    # The receipt opens it: the reporter sees every field, both files and the message.
    page = client.get("/follow-up/case").get_data(as_text=True)
    for value in markers.values():
        if value != markers["name"]:  # identity is not shown back on the case page
            assert value in page
    assert f"{marker}-name.txt" in page and f"{marker}-message" in page

    # A handler's password opens it too, identity included (policy `direct`).
    case = db.session.scalar(select(Case))
    private_key = unlock_private_key(handler, handler.password)
    case_key = access.open_case_key(case, handler, private_key)
    content = envelope.open_report(case_key, case.uuid, case.content)
    assert content["what_happened"] == markers["what_happened"]
    identity_key = access.open_case_key(case, handler, private_key, KeyKind.IDENTITY)
    identity = envelope.open_identity(identity_key, case.uuid, case.identity)
    assert identity == {"name": markers["name"], "email": f"{marker}@example.org",
                        "phone": phone}
    message = db.session.scalar(select(Message))
    assert envelope.open_message(case_key, message.uuid, message.body) == \
        f"{marker}-message"


def followup_send(client, receipt, body):
    token = csrf_token(client, "/follow-up")
    client.post("/follow-up", data={"receipt": receipt, "csrf_token": token})
    token = csrf_token(client, "/follow-up/case")
    return client.post("/follow-up/message", data={"body": body, "csrf_token": token})


def test_recovery_code_opens_every_case(app, submit, make_handler, institution):
    make_handler()
    submit(what_happened="recovered text")
    case = db.session.scalar(select(Case))
    recovery = keys.private_key_from_recovery_code(institution.recovery_code)
    case_key = access.open_case_key_with_recovery(case, recovery)
    assert envelope.open_report(case_key, case.uuid, case.content)["what_happened"] == \
        "recovered text"


def test_excluded_handler_cannot_open_the_case(app, submit, make_handler):
    trusted, suspect = make_handler("Ana Trusted"), make_handler("Ion Suspect")
    response, _ = submit(excluded=str(suspect.id), identity_choice="identified",
                         email="me@example.org")
    assert response.status_code == 200
    case = db.session.scalar(select(Case))
    holders = set(db.session.scalars(select(KeyWrap.staff_id).where(KeyWrap.case_id == case.id)))
    assert trusted.id in holders and suspect.id not in holders and None in holders
    suspect_key = unlock_private_key(suspect, suspect.password)
    with pytest.raises(NotAuthorised):
        access.open_case_key(case, suspect, suspect_key)
    with pytest.raises(NotAuthorised):
        access.open_case_key(case, suspect, suspect_key, KeyKind.IDENTITY)
    # Nor can the suspect use a colleague's wrap with their own private key.
    wrap = db.session.scalar(select(KeyWrap).where(KeyWrap.staff_id == trusted.id,
                                                   KeyWrap.kind == KeyKind.CASE))
    with pytest.raises(DecryptionError):
        envelope.open_case_key(wrap.sealed_key, case.uuid, suspect_key)


def test_ciphertexts_swapped_between_rows_or_fields_do_not_open(app, client, submit,
                                                                  make_handler, follow_up):
    make_handler()
    _, first_receipt = submit(what_happened="first report", identity_choice="identified",
                              email="a@example.org")
    _, second_receipt = submit(what_happened="second report")
    first, second = db.session.scalars(select(Case).order_by(Case.id)).all()

    # The second case's content moved into the first case's row.
    first.content, original = second.content, first.content
    db.session.commit()
    assert follow_up(first_receipt).status_code == 302
    with pytest.raises(DecryptionError):
        client.get("/follow-up/case")

    # The identity blob moved into the content field of its own case.
    first = db.session.get(Case, first.id)
    first.content = first.identity
    db.session.commit()
    with pytest.raises(DecryptionError):
        client.get("/follow-up/case")

    first = db.session.get(Case, first.id)
    first.content = original
    db.session.commit()
    assert "first report" in client.get("/follow-up/case").get_data(as_text=True)


def test_a_session_row_alone_does_not_open_the_case(app, institution, submit, make_handler,
                                                    follow_up, client):
    make_handler()
    _, receipt = submit()
    assert follow_up(receipt).status_code == 302
    cookie = client.get_cookie("avertizor_followup", path="/follow-up").value
    token, _ = cookie.split(".")
    forged = f"{token}.{'A' * 43}"  # right session id, wrong key half
    with pytest.raises(SessionExpired):
        followup.resume(forged, idle=timedelta(minutes=5), institution=institution)
    assert followup.resume(cookie, idle=timedelta(minutes=5),
                           institution=institution).case.id is not None

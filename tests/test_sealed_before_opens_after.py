"""Ciphertexts in the shape the code wrote before its sealing functions were named by what they
seal (raw AEAD and sealing with the labels spelled out here, as they stood in the services)
open with the new functions, and what the new functions write opens the old way: the same
associated data, labels and plaintext encodings, byte for byte."""
import base64
import io
import json
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select

from app.crypto import aead, config_sealed, cookie_sealed, envelope, files, keys, seal, stream
from app.crypto import request_reasons as reasons
from app.crypto.appkey import Purpose, app_key
from app.extensions import db
from app.models import Case, KeyKind, KeyWrap

UUID = "0b0e7a1c-6f2d-4e8a-9d3c-5a1b2c3d4e5f"
KEY = bytes(range(32))
TEXT = "Funcționarul a cerut bani — ăâîșț"


def _old_json(document: dict) -> bytes:  # submit._encode, redaction
    return json.dumps(document, ensure_ascii=False).encode()


# (old AAD, plaintext as the old code encoded it, new sealing, new opening, new value)
FIELDS = [
    (f"case:{UUID}:report", _old_json({"what_happened": TEXT}),
     lambda: envelope.seal_report(KEY, UUID, {"what_happened": TEXT}),
     lambda blob: envelope.open_report(KEY, UUID, blob), {"what_happened": TEXT}),
    (f"case:{UUID}:identity", _old_json({"name": TEXT}),
     lambda: envelope.seal_identity(KEY, UUID, {"name": TEXT}),
     lambda blob: envelope.open_identity(KEY, UUID, blob), {"name": TEXT}),
    (f"case:{UUID}:notify", b"ana@example.org",
     lambda: envelope.seal_notify_address(KEY, UUID, "ana@example.org"),
     lambda blob: envelope.open_notify_address(KEY, UUID, blob), "ana@example.org"),
    (f"case:{UUID}:audit-reason", TEXT.encode(),
     lambda: envelope.seal_audit_reason(KEY, UUID, TEXT),
     lambda blob: envelope.open_audit_reason(KEY, UUID, blob), TEXT),
    (f"message:{UUID}:body", TEXT.encode(),
     lambda: envelope.seal_message(KEY, UUID, TEXT),
     lambda blob: envelope.open_message(KEY, UUID, blob), TEXT),
    (f"note:{UUID}:body", TEXT.encode(),
     lambda: envelope.seal_note(KEY, UUID, TEXT),
     lambda blob: envelope.open_note(KEY, UUID, blob), TEXT),
    (f"receipt:{UUID}", KEY[::-1],
     lambda: envelope.wrap_for_receipt(KEY[::-1], UUID, KEY),
     lambda blob: envelope.unwrap_with_receipt(blob, UUID, KEY), KEY[::-1]),
    (f"identity-request:5:{reasons.REASON}", TEXT.encode(),
     lambda: reasons.seal_reason(KEY, 5, reasons.REASON, TEXT),
     lambda blob: reasons.open_reason(KEY, 5, reasons.REASON, blob), TEXT),
    ("reporter-session:" + KEY.hex(), b"secret",
     lambda: cookie_sealed.seal_session_secret(KEY, KEY, "reporter", b"secret"),
     lambda blob: cookie_sealed.open_session_secret(KEY, KEY, "reporter", blob), b"secret"),
]


@pytest.mark.parametrize(("aad", "old_plaintext", "new_seal", "new_open", "value"), FIELDS,
                         ids=[field[0].split(":")[0] + ":" + field[0].split(":")[-1]
                              for field in FIELDS])
def test_case_fields_open_both_ways(aad, old_plaintext, new_seal, new_open, value):
    assert new_open(aead.encrypt(KEY, old_plaintext, aad)) == value
    assert aead.decrypt(KEY, new_seal(), aad) == old_plaintext


def test_case_and_identity_keys_sealed_the_old_way_open_and_the_reverse():
    handler = X25519PrivateKey.generate()
    for kind, new_open, new_seal in (
            ("case", envelope.open_case_key, envelope.seal_case_key),
            ("identity", envelope.open_identity_key, envelope.seal_identity_key)):
        label = f"{kind}-key:{UUID}"
        assert new_open(seal.seal(KEY, handler.public_key(), label), UUID, handler) == KEY
        to = [envelope.Recipient(3, handler.public_key())]
        [(recipient, blob)] = new_seal(KEY, UUID, to=to)
        assert recipient.staff_id == 3 and seal.open_sealed(blob, handler, label) == KEY


def test_request_keys_in_the_old_json_open_and_the_reverse():
    requester, recovery = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    label = "identity-request-key:9"
    old = json.dumps({
        "12": base64.b64encode(seal.seal(KEY, requester.public_key(), label)).decode(),
        "recovery": base64.b64encode(seal.seal(KEY, recovery.public_key(), label)).decode(),
    }, sort_keys=True)
    assert reasons.open_request_key(old, 9, 12, requester) == KEY
    assert reasons.open_request_key(old, 9, None, recovery) == KEY
    assert reasons.open_request_key(old, 9, 13, requester) is None
    new = json.loads(reasons.seal_request_key(KEY, 9, to=[
        envelope.Recipient(12, requester.public_key()),
        envelope.Recipient(None, recovery.public_key())]))
    assert set(new) == {"12", "recovery"}
    assert seal.open_sealed(base64.b64decode(new["recovery"]), recovery, label) == KEY


def test_values_sealed_under_the_configuration_open_both_ways(app):
    secret = app.config["SECRET_KEY"]
    outbox_key = app_key(Purpose.OUTBOX)
    old = aead.encrypt(outbox_key, json.dumps({"to": "a@b.example"}).encode(), "outbox:4:invite")
    assert config_sealed.open_outbox_parts(4, "invite", old) == {"to": "a@b.example"}
    assert json.loads(aead.decrypt(outbox_key, config_sealed.seal_outbox_parts(
        4, "invite", {"to": "a@b.example"}), "outbox:4:invite")) == {"to": "a@b.example"}

    totp_key = app_key(Purpose.TOTP_STORAGE, secret=secret)
    old = aead.encrypt(totp_key, b"totp-secret", "staff:8:totp")
    assert config_sealed.open_totp_secret(secret, 8, old) == b"totp-secret"
    assert aead.decrypt(totp_key, config_sealed.seal_totp_secret(secret, 8, b"totp-secret"),
                        "staff:8:totp") == b"totp-secret"

    token_hash = os.urandom(32)
    aad = f"invitation:2:{token_hash.hex()}:totp"
    enrolment_key = app_key(Purpose.ACTIVATION_TOTP, secret=secret)
    old = aead.encrypt(enrolment_key, b"totp-secret", aad)
    assert config_sealed.open_enrolment(secret, 2, token_hash, old) == b"totp-secret"
    assert aead.decrypt(enrolment_key, config_sealed.seal_enrolment(
        secret, 2, token_hash, b"totp-secret"), aad) == b"totp-secret"


def test_a_backup_archive_in_the_old_shape_opens_and_the_reverse():
    backup_id, recovery = os.urandom(16), X25519PrivateKey.generate()
    archive = os.urandom(files.CHUNK_BYTES + 1000)  # two chunks
    old_sealed = seal.seal(KEY, recovery.public_key(), f"backup-key:{backup_id.hex()}")
    old_stream = io.BytesIO()
    files.encrypt_stream(io.BytesIO(archive), old_stream, KEY, f"backup-{backup_id.hex()}")
    other = seal.seal(KEY, X25519PrivateKey.generate().public_key(), "backup-key:x")
    assert stream.open_archive_key([other, old_sealed], backup_id, recovery) == KEY
    old_stream.seek(0)
    assert stream.open_archive(old_stream, KEY, backup_id).read() == archive

    [new_sealed] = stream.seal_archive_key(KEY, backup_id, to=[recovery.public_key()])
    assert seal.open_sealed(new_sealed, recovery, f"backup-key:{backup_id.hex()}") == KEY
    target = io.BytesIO()
    pipe = stream.EncryptingPipe(target, KEY, backup_id)
    pipe.writer.write(archive)
    pipe.close()
    target.seek(0)
    assert b"".join(files.decrypt_stream(target, KEY, f"backup-{backup_id.hex()}")) == archive


def test_a_submitted_report_opens_the_old_way(app, submit, make_handler, institution):
    """What intake writes now is what the former code read: the recovery wrap under
    `case-key:<uuid>` and `identity-key:<uuid>`, the report under `case:<uuid>:report`."""
    handler = make_handler()
    response, _ = submit(what_happened=TEXT + " raport", identity_choice="identified",
                         name="Ion Popa", email="ion@example.org")
    assert response.status_code == 200
    case = db.session.scalar(select(Case))
    recovery = keys.private_key_from_recovery_code(institution.recovery_code)
    wraps = {(w.staff_id, w.kind): w.sealed_key for w in db.session.scalars(
        select(KeyWrap).where(KeyWrap.case_id == case.id))}
    assert set(wraps) == {(handler.id, KeyKind.CASE), (None, KeyKind.CASE),
                          (handler.id, KeyKind.IDENTITY), (None, KeyKind.IDENTITY)}
    case_key = seal.open_sealed(wraps[None, KeyKind.CASE], recovery, f"case-key:{case.uuid}")
    identity_key = seal.open_sealed(wraps[None, KeyKind.IDENTITY], recovery,
                                    f"identity-key:{case.uuid}")
    content = json.loads(aead.decrypt(case_key, case.content, f"case:{case.uuid}:report"))
    assert content["what_happened"] == TEXT + " raport"
    identity = json.loads(aead.decrypt(identity_key, case.identity,
                                       f"case:{case.uuid}:identity"))
    assert identity["name"] == "Ion Popa"
    assert aead.decrypt(case_key, case.notify, f"case:{case.uuid}:notify") == \
        b"ion@example.org"

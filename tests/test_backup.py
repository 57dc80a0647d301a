"""Backup and restore: `flask --app wsgi backup create PATH` on a working instance, then
`backup restore PATH` into a second, empty one (a new SQLite file, or a new PostgreSQL database
when the suite runs on PostgreSQL), migrated like production.

What must hold: the backup is ciphertext from its first byte to its last (no report text, no
table name); only the recovery code opens it; it goes only into an empty instance, all or
nothing; after a restore a reporter opens their case with the receipt and a handler with their
password, and the files come back byte for byte.
"""
import io
import os
import secrets
import subprocess
import tarfile
import threading
from pathlib import Path

import flask_migrate
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import force_locale
from sqlalchemy import func, make_url, select

from app import create_app
from app.crypto import aead, envelope, files, keys, stream
from app.crypto.seal import public_bytes
from app.extensions import db
from app.models import Attachment, AuditEntry, Case, Institution, StaffAccount, StaffMember
from app.services.access import keys as access
from app.services.access.opened import open_case
from app.services.audit import chain as audit
from app.services.casework import notes
from app.services.operations import backup, backup_format
from app.services.operations.institutions import create_institution
from app.services.staff.members import unlock_private_key
from app.services.staff.sign_in import StaffAccess
from tests.conftest import (
    RECEIPT_RE,
    IsolatedRequestsClient,
    config_for,
    csrf_token,
    report_fields,
)
from tests.support.staff import sign_in_client

PG = ("-h", "127.0.0.1", "-U", "postgres")


@pytest.fixture
def second_instance(tmp_path, database_url):
    """An empty database and upload folder, migrated with `upgrade head`."""
    created = None
    if database_url.startswith("postgresql"):
        created = f"avz_restore_{secrets.token_hex(4)}"
        subprocess.run(["createdb", *PG, created], check=True)
        url = make_url(database_url).set(database=created).render_as_string(
            hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'restored.db'}"
    uploads = tmp_path / "restored-uploads"
    uploads.mkdir()
    target = create_app(config_for(url, str(uploads)))
    target.test_client_class = IsolatedRequestsClient
    with target.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    try:
        yield target, uploads
    finally:
        with target.app_context():
            db.session.remove()
            db.engine.dispose()
        if created:
            subprocess.run(["dropdb", *PG, "--if-exists", created], check=True)


def row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def folder_state(folder) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in Path(folder).iterdir()}


def invoke(flask_app, *args, input=None):
    """A command run in that app's context (the test holds another app's context open), its
    messages in English."""
    with flask_app.app_context(), force_locale("en"):
        return flask_app.test_cli_runner().invoke(args=list(args), input=input)


def restore(target_app, path, code: str):
    return invoke(target_app, "backup", "restore", str(path), input=code + "\n")


def submit_to(web, **overrides):
    data = report_fields(**overrides)
    files_ = data.pop("files", None)
    data["csrf_token"] = csrf_token(web, "/report")
    if files_:
        data["evidence"] = files_
    response = web.post("/report", data=data, content_type="multipart/form-data")
    match = RECEIPT_RE.search(response.get_data(as_text=True))
    return match.group(1).replace(" ", "") if match else None


def staff_sign_in(target_app, member, step: int):
    """Password, then a TOTP code of a later time step than any used before (no replay)."""
    browser = target_app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return sign_in_client(browser, member, step=step)


def test_backup_restores_into_an_empty_instance_and_every_key_still_opens_it(
        app, client, submit, follow_up, make_handler, sign_in, institution, upload_folder,
        second_instance, tmp_path):
    target_app, target_uploads = second_instance
    handler, colleague = make_handler("Ana Popescu"), make_handler("Ion Ionescu")
    marker = "zq" + secrets.token_hex(6)
    evidence = os.urandom(1536 * 1024) + marker.encode()  # more than one archive chunk
    _, receipt = submit(what_happened=f"{marker} what", persons_involved=f"{marker} who",
                        identity_choice="identified", name=f"{marker} name",
                        email=f"{marker}@example.org",
                        files=[(io.BytesIO(evidence), f"{marker}.pdf"),
                               (io.BytesIO(f"{marker} note".encode()), "note.txt")])
    submit(what_happened=f"{marker} second")
    case = db.session.scalar(select(Case).order_by(Case.id))
    follow_up(receipt)
    token = csrf_token(client, "/follow-up/case")
    client.post("/follow-up/message", data={"body": f"{marker} message", "csrf_token": token})
    staff = sign_in(handler)
    assert marker in staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    notes.add_note(open_case(StaffAccess(handler, unlock_private_key(handler, handler.password),
                                         None), case.id), f"{marker} internal note")
    db.session.commit()
    # Plain values: the source's ORM objects must not load anything while the target's app
    # context is current (Flask-SQLAlchemy would use the target's engine for them).
    people = {"handler": (handler.email, handler.password, handler.totp_secret_raw),
              "colleague": (colleague.email, colleague.password)}
    recovery_code = institution.recovery_code
    source_counts = row_counts()
    assert source_counts["audit_entry"] and source_counts["message"] and \
        source_counts["attachment"] == 2

    path = tmp_path / "nightly.avz"
    result = invoke(app, "backup", "create", str(path))
    assert result.exit_code == 0, result.output
    assert "2 files" in result.output
    data = path.read_bytes()
    assert os.stat(path).st_mode & 0o077 == 0, "only the owner may read the backup"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".avertizor-backup-")]

    # Ciphertext from end to end: no marker, no table or column name, no file name.
    assert marker.encode() not in data and receipt.encode() not in data
    for table in db.metadata.sorted_tables:
        assert f"{table.name}".encode() not in data[len(backup_format.MAGIC):], table.name
    for word in (b"alembic", b"manifest", b"storage_name", b"what_happened", b"tables/"):
        assert word not in data

    # Only the institution's recovery code opens it.
    wrong = keys.recovery_code(X25519PrivateKey.generate())
    refused = restore(target_app, path, wrong)
    assert refused.exit_code != 0 and "does not open this backup" in refused.output
    refused = restore(target_app, path, "not a code at all")
    assert refused.exit_code != 0 and "does not open this backup" in refused.output

    # Never into an instance that holds anything: not its own source, not a stray file.
    refused = restore(app, path, recovery_code)
    assert refused.exit_code != 0 and "is not empty" in refused.output
    db.session.expire_all()
    assert row_counts() == source_counts
    stray = target_uploads / "stray"
    stray.write_bytes(b"x")
    refused = restore(target_app, path, recovery_code)
    assert refused.exit_code != 0 and "upload folder" in refused.output
    stray.unlink()

    # A damaged backup restores nothing, even after the rows and a file were written.
    damaged = tmp_path / "damaged.avz"
    damaged.write_bytes(data[:-40] + bytes([data[-40] ^ 1]) + data[-39:])
    refused = restore(target_app, damaged, recovery_code)
    assert refused.exit_code != 0 and "damaged" in refused.output
    truncated = tmp_path / "truncated.avz"
    truncated.write_bytes(data[:-(files.CHUNK_BYTES // 2)])
    refused = restore(target_app, truncated, recovery_code)
    assert refused.exit_code != 0 and "damaged" in refused.output
    with target_app.app_context():
        assert set(row_counts().values()) == {0}
        db.session.remove()
    assert list(target_uploads.iterdir()) == []

    result = restore(target_app, path, recovery_code)
    assert result.exit_code == 0, result.output
    assert "Audit chain intact." in result.output
    assert "attachment: 2" in result.output and "Restored" in result.output
    assert folder_state(target_uploads) == folder_state(upload_folder)

    with target_app.app_context():
        assert row_counts() == source_counts
        assert audit.verify() is None
        restored = db.session.scalar(select(Case).order_by(Case.id))

        # The reporter's receipt opens the case on the restored portal.
        reporter = target_app.test_client()
        reporter.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        token = csrf_token(reporter, "/follow-up")
        assert reporter.post("/follow-up", data={"receipt": receipt,
                                                 "csrf_token": token}).status_code == 302
        page = reporter.get("/follow-up/case").get_data(as_text=True)
        assert f"{marker} what" in page and f"{marker} message" in page
        assert f"{marker}.pdf" in page

        # A handler's password opens it too.
        email, password, totp_secret = people["handler"]
        member = db.session.scalar(select(StaffMember).join(StaffMember.account).where(StaffAccount.email == email))
        case_key = access.open_case_key(restored, member, unlock_private_key(member, password))
        content = envelope.open_report(case_key, restored.uuid, restored.content)
        assert content["persons_involved"] == f"{marker} who"

        # The handler signs in (password and second factor) and downloads the evidence.
        member.password, member.totp_secret_raw = password, totp_secret
        browser = staff_sign_in(target_app, member, step=1)
        case_page = browser.get(f"/staff/cases/{restored.id}").get_data(as_text=True)
        assert f"{marker} internal note" in case_page
        big = db.session.scalar(select(Attachment).where(Attachment.case_id == restored.id)
                                .order_by(Attachment.id))
        with browser.get(f"/staff/cases/{restored.id}/files/{big.id}") as download:
            assert download.status_code == 200 and download.data == evidence

        # The portal keeps working: new ids follow the restored ones (PostgreSQL sequences).
        new_receipt = submit_to(reporter, what_happened="after the restore")
        assert new_receipt and db.session.scalar(select(func.count(Case.id))) == 3
        assert db.session.scalar(select(func.max(AuditEntry.seq))) >= 1
        db.session.remove()

    # The colleague's key works too, and the recovery code opens every case.
    with target_app.app_context():
        recovery_key = keys.private_key_from_recovery_code(recovery_code)
        for restored_case in db.session.scalars(select(Case).order_by(Case.id).limit(2)):
            assert access.open_case_key_with_recovery(restored_case, recovery_key)
        email, password = people["colleague"]
        member = db.session.scalar(select(StaffMember).join(StaffMember.account).where(StaffAccount.email == email))
        assert access.open_case_key(restored_case, member, unlock_private_key(member, password))
        db.session.remove()


def test_a_backup_needs_an_institution_and_a_restore_a_migrated_database(app, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = invoke(app, "backup", "create", str(out / "b.avz"))
    assert result.exit_code != 0 and "nothing to back up" in result.output
    assert list(out.iterdir()) == []
    not_a_backup = out / "x.avz"
    not_a_backup.write_bytes(b"PK\x03\x04 something else entirely")
    code = keys.recovery_code(X25519PrivateKey.generate())
    result = invoke(app, "backup", "restore", str(not_a_backup), input=code + "\n")
    assert result.exit_code != 0 and "not an Avertizor backup" in result.output

    _, code = create_institution("Comuna Bălțați")
    db.session.commit()
    assert invoke(app, "backup", "create", str(out / "b.avz")).exit_code == 0

    # Into a database without the schema: refused; once migrated, it goes in. The target is
    # SQLite whatever the source (on PostgreSQL this restores across databases).
    uploads = tmp_path / "sqlite-uploads"
    uploads.mkdir()
    target = create_app(config_for(f"sqlite:///{tmp_path / 'bare.db'}", str(uploads)))
    result = restore(target, out / "b.avz", code)
    assert result.exit_code != 0 and "db upgrade" in result.output
    with target.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    result = restore(target, out / "b.avz", code)
    assert result.exit_code == 0, result.output
    assert "institution: 1" in result.output
    with target.app_context():
        assert db.session.scalar(select(Institution.name)) == "Comuna Bălțați"
        db.session.remove()
        db.engine.dispose()


def test_the_snapshot_is_consistent_while_the_portal_keeps_writing(
        app, submit, make_handler, institution, second_instance, tmp_path, monkeypatch):
    """An audit entry written while the tables are being read must be in the backup
    completely (entry and chain head) or not at all; otherwise the restored chain breaks."""
    target_app, _ = second_instance
    make_handler()
    submit(what_happened="before the backup")
    entries_before = db.session.scalar(select(func.count(AuditEntry.id)))
    institution_id, recovery_code = institution.id, institution.recovery_code
    writers: list[threading.Thread] = []
    dump_table = backup._dump_table

    def write_an_entry():
        with app.app_context():
            audit.record("written_during_backup", institution_id=institution_id)
            db.session.commit()

    def dump_then_write(tar, connection, table):
        count = dump_table(tar, connection, table)
        if table.name in ("audit_entry", "audit_head") and not writers:
            writers.append(threading.Thread(target=write_an_entry))
            writers[0].start()
            # PostgreSQL commits at once; SQLite waits for the backup's read lock.
            writers[0].join(timeout=1)
        return count

    monkeypatch.setattr(backup, "_dump_table", dump_then_write)
    path = tmp_path / "during.avz"
    result = invoke(app, "backup", "create", str(path))
    assert result.exit_code == 0, result.output
    writers[0].join(timeout=30)
    assert not writers[0].is_alive()
    assert db.session.scalar(select(func.count(AuditEntry.id))) == entries_before + 1

    result = restore(target_app, path, recovery_code)
    assert result.exit_code == 0, result.output
    assert "Audit chain intact." in result.output
    assert f"audit_entry: {entries_before}\n" in result.output


def test_a_backup_whose_manifest_is_not_a_file_is_refused_with_the_reason(
        second_instance, tmp_path):
    """Sealed to the right recovery key, but the manifest entry is a directory: refused with
    the usual message, not a crash on the missing file content."""
    target_app, target_uploads = second_instance
    recovery = X25519PrivateKey.generate()
    backup_id, archive_key = os.urandom(backup_format.ID_BYTES), aead.new_key()
    path = tmp_path / "odd.avz"
    with open(path, "wb") as target:
        target.write(backup_format.header(backup_id, archive_key,
                                          [public_bytes(recovery.public_key())]))
        pipe = stream.EncryptingPipe(target, archive_key, backup_id)
        with tarfile.open(fileobj=pipe.writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            entry = tarfile.TarInfo("manifest.json")
            entry.type = tarfile.DIRTYPE
            tar.addfile(entry)
        pipe.close()
    result = restore(target_app, path, keys.recovery_code(recovery))
    assert result.exit_code != 0
    assert "not an Avertizor backup, or it is damaged" in result.output, result.output
    with target_app.app_context():
        assert set(row_counts().values()) == {0}
        db.session.remove()
    assert list(target_uploads.iterdir()) == []

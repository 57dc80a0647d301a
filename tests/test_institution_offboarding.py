"""Offboarding and the backup of one institution, on a deployment serving two (real
database, real ciphers, the real CLI):

- `institution export SLUG` writes an archive of that institution only, which only its own
  recovery code opens (not the other institution's);
- `institution delete SLUG --yes` leaves nothing of it (every table at 0 rows for it, no
  upload file) and checks so itself, while the other institution is untouched;
- `backup create --institution` → delete → `backup restore --institution` brings its cases
  back, opened with the handler's own password-derived key and with its receipt, and the
  other institution again untouched; a restore over an existing institution is refused.
"""
import io
import json
import secrets
import tarfile
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.crypto import stream
from app.extensions import db
from app.models import Category, Institution, Role
from app.services.access.opened import open_case
from app.services.casework import case_view, notes
from app.services.intake import followup
from app.services.intake.evidence import Evidence
from app.services.intake.submit import Report, submit_report
from app.services.operations import backup_format
from app.services.operations.institutions import create_institution
from app.services.operations.tenant_data import (
    UNATTRIBUTABLE,
    owned_tables,
    row_counts,
    storage_names,
)
from app.services.plan import data as plan_data
from app.services.plan.loader import store_plan
from app.services.staff import members as staff_service
from app.services.staff.members import unlock_private_key
from app.services.staff.sign_in import StaffAccess
from tests.support.staff import signed_in_access


def invoke(app, *args, input=None):
    with force_locale("en"):
        return app.test_cli_runner().invoke(args=list(args), input=input)


class Tenant:
    """One institution with a handler, a plan, a signed-in session and a report with a file;
    its secrets kept here as plain values, as the people holding them would."""

    def __init__(self, name: str, siruta: str, kdf_params):
        institution, self.code = create_institution(name, siruta_code=siruta)
        self.id, self.slug = institution.id, institution.slug
        self.password = secrets.token_urlsafe(16)
        handler = staff_service.add_staff(
            institution, email=f"ana@{self.slug}.example", name="Ana Popescu",
            roles=[Role.HANDLER], password=self.password, kdf_params=kdf_params)
        store_plan(institution, plan_data.shipped())
        self.marker = "zq" + secrets.token_hex(6)
        self.evidence = f"{self.marker} evidence ".encode() * 500
        submitted = submit_report(
            institution,
            Report(category=Category.BRIBERY, what_happened=f"{self.marker} what happened",
                   work_context=False, language="ro"),
            [Evidence(f"{self.marker}.txt", "text/plain", io.BytesIO(self.evidence))],
            kdf_params)
        self.case_id, self.receipt = submitted.case.id, submitted.receipt
        db.session.commit()
        handler.password = self.password
        access = signed_in_access(institution, handler, kdf_params)
        notes.add_note(open_case(access, self.case_id), f"{self.marker} note")
        db.session.commit()
        self.handler_id = handler.id

    def institution(self) -> Institution:
        return db.session.get_one(Institution, self.id)

    def read_as_handler(self) -> tuple[str, bytes]:
        """The report and its file, opened with the handler's password-derived key."""
        db.session.expire_all()
        from app.models import StaffMember

        member = db.session.get_one(StaffMember, self.handler_id)
        access = StaffAccess(member, unlock_private_key(member, self.password), None)
        view = case_view.read_case(access, self.case_id)
        [file] = view.files
        _, chunks = case_view.download(open_case(access, self.case_id), file.id)
        return view.content["what_happened"], b"".join(chunks)


@pytest.fixture
def two(app, kdf_params):
    return (Tenant("Comuna Bălțați", "95435", kdf_params),
            Tenant("Comuna Țigănași", "97829", kdf_params))


def archive_members(path, code: str) -> dict[str, bytes]:
    """Open an archive with a recovery code: {member name: content}."""
    from app.crypto import keys

    with open(path, "rb") as source:
        backup_id, key = backup_format.open_header(
            source, keys.private_key_from_recovery_code(code))
        with tarfile.open(fileobj=stream.open_archive(source, key, backup_id), mode="r|") as tar:
            return {member.name: tar.extractfile(member).read() for member in tar
                    if member.isfile()}


def test_every_table_with_institution_data_is_attributed_to_its_institution(app):
    covered = {table.name for table, _ in owned_tables()}
    assert covered | UNATTRIBUTABLE == {table.name for table in db.metadata.sorted_tables}
    assert not covered & UNATTRIBUTABLE


def test_export_holds_one_institution_and_opens_only_with_its_recovery_code(
        app, two, tmp_path, upload_folder):
    a, b = two
    path = tmp_path / "baltati.avz"
    result = invoke(app, "institution", "export", a.slug, "--out", str(path))
    assert result.exit_code == 0, result.output
    assert "1 files" in result.output and "Only its recovery code opens it" in result.output
    data = path.read_bytes()
    assert a.marker.encode() not in data and b"institution" not in data

    with pytest.raises(backup_format.BackupRefused) as refused, force_locale("en"):
        archive_members(path, b.code)
    with force_locale("en"):
        assert "does not open" in str(refused.value.message)
    members = archive_members(path, a.code)
    manifest = json.loads(members["manifest.json"])
    assert manifest["scope"] == "institution" and manifest["institution"]["slug"] == a.slug
    for name, content in members.items():
        if name.startswith("tables/"):
            for line in content.splitlines():
                row = json.loads(line)
                if "institution_id" in row:
                    assert row["institution_id"] == a.id, name
                if name.startswith("tables/institution/"):
                    assert row["id"] == a.id
    assert sum(1 for name in members if name.startswith("tables/institution/")) == 1
    [stored] = storage_names(a.id)
    assert members[f"files/{stored}"] == (tmp_path / "uploads" / stored).read_bytes()
    assert not any(name == f"files/{s}" for s in storage_names(b.id) for name in members)
    # The rows of every table of the institution are there, as many as in the database.
    counts = row_counts(a.id)
    held = {}
    for name, content in members.items():
        if name.startswith("tables/"):
            table = name.split("/")[1]
            held[table] = held.get(table, 0) + len(content.splitlines())
    assert {t: n for t, n in counts.items() if n} == held
    assert {"case", "key_wrap", "note", "attachment", "receipt", "staff_member",
            "staff_session", "plan_measure", "audit_entry", "audit_head"} <= set(held)


def test_delete_leaves_nothing_of_the_institution_and_the_other_intact(
        app, two, tmp_path, upload_folder):
    a, b = two
    b_counts, b_files = row_counts(b.id), storage_names(b.id)
    a_files = storage_names(a.id)
    refused = invoke(app, "institution", "delete", a.slug)
    assert refused.exit_code == 1 and "add --yes" in refused.output
    assert row_counts(a.id)["case"] == 1

    result = invoke(app, "institution", "delete", a.slug, "--yes")
    assert result.exit_code == 0, result.output
    assert "check case: 0 rows left" in result.output
    assert "check upload files: 0 left" in result.output
    assert f"Check passed: nothing of {a.slug} is left." in result.output
    db.session.expire_all()
    assert not any(row_counts(a.id).values())
    assert not any((tmp_path / "uploads" / name).exists() for name in a_files)
    assert row_counts(b.id) == b_counts
    assert all((tmp_path / "uploads" / name).exists() for name in b_files)
    assert b.read_as_handler() == (f"{b.marker} what happened", b.evidence)
    assert db.session.scalar(select(func.count(Institution.id))) == 1
    assert invoke(app, "audit", "verify").exit_code == 0


def test_backup_of_one_institution_delete_and_restore_beside_the_other(
        app, two, tmp_path, upload_folder, kdf_params):
    a, b = two
    a_counts, b_counts = row_counts(a.id), row_counts(b.id)
    path = tmp_path / "baltati-nightly.avz"
    result = invoke(app, "backup", "create", "--institution", a.slug, str(path))
    assert result.exit_code == 0, result.output

    # Over the living institution: refused, nothing changed.
    over = invoke(app, "backup", "restore", "--institution", a.slug, str(path),
                  input=a.code + "\n")
    assert over.exit_code == 1 and "exists in this deployment: delete it first" in over.output
    wrong_slug = invoke(app, "backup", "restore", "--institution", b.slug, str(path),
                        input=a.code + "\n")
    assert wrong_slug.exit_code == 1 and f"holds the institution “{a.slug}”" in \
        wrong_slug.output
    assert invoke(app, "institution", "delete", a.slug, "--yes").exit_code == 0
    wrong_code = invoke(app, "backup", "restore", "--institution", a.slug, str(path),
                        input=b.code + "\n")
    assert wrong_code.exit_code == 1 and "does not open" in wrong_code.output

    result = invoke(app, "backup", "restore", "--institution", a.slug, str(path),
                    input=a.code + "\n")
    assert result.exit_code == 0, result.output
    assert "Audit chain intact." in result.output
    db.session.expire_all()
    assert row_counts(a.id) == a_counts and row_counts(b.id) == b_counts
    assert a.read_as_handler() == (f"{a.marker} what happened", a.evidence)
    assert b.read_as_handler() == (f"{b.marker} what happened", b.evidence)
    # The reporter's receipt works again at their institution.
    cookie = followup.log_in(a.institution(), a.receipt, kdf_params=kdf_params,
                             idle=timedelta(minutes=30), lifetime=timedelta(hours=2))
    db.session.commit()
    reporter = followup.read_case(followup.resume(cookie, idle=timedelta(minutes=30),
                                                  institution=a.institution()))
    assert a.marker in json.dumps(reporter.__dict__, default=str)
    assert invoke(app, "audit", "verify").exit_code == 0
    # Ids continue after the restored rows (PostgreSQL sequences were moved on).
    newer, _ = create_institution("Comuna Rediu")
    db.session.commit()
    assert newer.id > max(a.id, b.id)


def test_a_whole_deployment_backup_is_not_restored_as_one_institution(app, two, tmp_path):
    a, _ = two
    path = tmp_path / "all.avz"
    assert invoke(app, "backup", "create", str(path)).exit_code == 0
    assert invoke(app, "institution", "delete", a.slug, "--yes").exit_code == 0
    result = invoke(app, "backup", "restore", "--institution", a.slug, str(path),
                    input=a.code + "\n")
    assert result.exit_code == 1 and "backup of a whole deployment" in result.output


def test_each_institution_gets_its_own_archive_that_only_its_code_opens(app, two, tmp_path):
    a, b = two
    folder = tmp_path / "nightly"
    result = invoke(app, "backup", "create", "--each-institution", str(folder))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{a.slug}.avz",
                                                               f"{b.slug}.avz"])
    for tenant, other in ((a, b), (b, a)):
        members = archive_members(folder / f"{tenant.slug}.avz", tenant.code)
        assert json.loads(members["manifest.json"])["institution"]["id"] == tenant.id
        with pytest.raises(backup_format.BackupRefused):
            archive_members(folder / f"{tenant.slug}.avz", other.code)
    whole = invoke(app, "backup", "create", str(tmp_path / "all.avz"))
    assert whole.exit_code == 0 and "any one of their recovery codes opens all of it" in \
        whole.output


def test_a_restore_whose_ids_were_handed_out_again_is_refused_and_changes_nothing(
        app, two, tmp_path, kdf_params, database_url):
    """B was set up last, so its ids are the highest. After its deletion SQLite hands the
    same ids to the next institution (PostgreSQL's sequences never go back)."""
    _, b = two
    path = tmp_path / "tiganasi.avz"
    assert invoke(app, "backup", "create", "--institution", b.slug, str(path)).exit_code == 0
    assert invoke(app, "institution", "delete", b.slug, "--yes").exit_code == 0
    newcomer = Tenant("Comuna Rediu", "98001", kdf_params)
    before = {table.name: db.session.scalar(select(func.count()).select_from(table))
              for table in db.metadata.sorted_tables}
    result = invoke(app, "backup", "restore", "--institution", b.slug, str(path),
                    input=b.code + "\n")
    db.session.expire_all()
    if database_url.startswith("sqlite"):
        assert newcomer.id == b.id
        assert result.exit_code == 1, result.output
        assert "have the ids of rows another institution holds now: nothing was restored" \
            in result.output
        assert {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables} == before
        assert newcomer.read_as_handler()[0] == f"{newcomer.marker} what happened"
    else:
        assert newcomer.id > b.id
        assert result.exit_code == 0, result.output
        assert b.read_as_handler() == (f"{b.marker} what happened", b.evidence)
        assert newcomer.read_as_handler()[0] == f"{newcomer.marker} what happened"

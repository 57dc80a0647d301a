"""The backup of one institution, which is also its offboarding export: every row of it in
every table (services.operations.tenant_data decides which) and its upload files, in the
backup format (backup_format), sealed to that institution's recovery public key only, so
its recovery code, and no other institution's, opens it.

`flask --app wsgi backup create --institution SLUG PATH` (or `institution export SLUG`)
writes it; `backup restore --institution SLUG PATH` puts it back into a deployment that
serves other institutions, without touching them.

A restore keeps every id as it was: the audit chain's hashes, the sealed TOTP secrets and the
case keys are bound to them, so renumbering would break what the backup is for. It therefore
goes only into an empty slot: the institution (its id and slug) must not exist, and none of
the archive's rows or files may collide with another institution's. On PostgreSQL, ids come
from sequences that never go back, so an institution deleted from this deployment always
fits again; on SQLite ids freed by a deletion may have been handed out since, and the
restore then refuses, naming the table, and changes nothing.
"""
import json
import os
import tarfile
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text

from ...crypto import stream
from ...extensions import db
from ...models import Institution
from ...models.types import utcnow
from ..audit import chain as audit
from . import backup as whole
from .backup_format import FORMAT, BackupRefused, open_header
from .tenant_data import owned_clause, owned_tables, storage_names

SCOPE = "institution"


@dataclass
class InstitutionBackupReport:
    slug: str
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    missing_files: int = 0
    size: int = 0


def _write_archive(sink, institution_id: int, report: InstitutionBackupReport) -> None:
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        with whole._snapshot() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")) \
                .scalar_one()
            institution = connection.execute(select(Institution.slug, Institution.name)
                                             .where(Institution.id == institution_id)).one()
            tables = owned_tables()
            manifest = {"format": FORMAT, "alembic_revision": revision,
                        "created_at": utcnow().isoformat(), "scope": SCOPE,
                        "institution": {"id": institution_id, "slug": institution.slug,
                                        "name": institution.name},
                        "tables": [table.name for table, _ in tables]}
            whole._add_member(tar, "manifest.json", json.dumps(manifest).encode())
            for table, _ in tables:
                report.rows[table.name] = whole._dump_table(
                    tar, connection, table, owned_clause(table, institution_id))
            names = storage_names(institution_id, connection)
        whole._add_files(tar, names, report)  # type: ignore[arg-type]  # same counters


def create(institution: Institution, path: str) -> InstitutionBackupReport:
    """Write the institution's encrypted archive to `path`; needs no secret (cron)."""
    institution_id, recipient = institution.id, institution.recovery_public_key
    report = InstitutionBackupReport(slug=institution.slug)
    db.session.rollback()  # the snapshot runs on its own connection
    report.size = whole.write_encrypted(
        path, [recipient], lambda sink: _write_archive(sink, institution_id, report))
    return report


def create_each(folder: str) -> list[InstitutionBackupReport]:
    """One archive per institution, `<folder>/<slug>.avz`, each sealed to its own key only:
    on a shared deployment no institution's code opens another's data (the whole-deployment
    backup is sealed to every institution's key, so any one of them opens all of it)."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    targets = [(institution_id, slug) for institution_id, slug in db.session.execute(
        select(Institution.id, Institution.slug).order_by(Institution.id))]
    if not targets:
        raise BackupRefused(_l("There is no institution yet, so there is nothing to back up."))
    return [create(db.session.get_one(Institution, institution_id),
                   os.path.join(folder, f"{slug}.avz")) for institution_id, slug in targets]


# --- restore -------------------------------------------------------------------------------------

@dataclass
class InstitutionRestoreReport:
    slug: str
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    missing_files: int = 0
    audit_chain: audit.ChainBreak | None = None


def _check_slot(document: dict, slug: str) -> int:
    """The institution's id, once it is sure the archive is this institution's and its place
    in this deployment is free."""
    if document.get("scope") != SCOPE:
        raise BackupRefused(_l("This is a backup of a whole deployment, not of one "
                               "institution: restore it without --institution, into an empty "
                               "database."))
    whole._check_manifest(document)
    described = document.get("institution") or {}
    if described.get("slug") != slug:
        raise BackupRefused(_l("This archive holds the institution “%(held)s”, not "
                               "“%(asked)s”.", held=described.get("slug"), asked=slug))
    institution_id = described.get("id")
    if not isinstance(institution_id, int):
        raise BackupRefused(_l("This file is not an Avertizor backup, or it is damaged."))
    if db.session.scalar(select(Institution.id).where(Institution.slug == slug)) is not None:
        raise BackupRefused(_l("The institution “%(slug)s” exists in this deployment: delete "
                               "it first (`flask --app wsgi institution delete %(slug)s`), "
                               "then restore.", slug=slug))
    if db.session.get(Institution, institution_id) is not None:
        raise BackupRefused(_l(
            "Rows of this archive (table %(table)s) have the ids of rows another "
            "institution holds now: nothing was restored. Restore it into a "
            "deployment where these ids are free.", table="institution"))
    return institution_id


def _load(tar: tarfile.TarFile, slug: str, report: InstitutionRestoreReport) -> int:
    member = tar.next()
    if member is None or member.name != "manifest.json":
        raise BackupRefused(_l("This file is not an Avertizor backup, or it is damaged."))
    institution_id = _check_slot(json.loads(whole._file_of(tar, member).read()), slug)
    allowed = {table.name for table, _ in owned_tables()}
    while (member := tar.next()) is not None:
        kind, _, rest = member.name.partition("/")
        if kind == "tables" and member.isfile():
            name = rest.partition("/")[0]
            table = db.metadata.tables.get(name)
            if table is None or name not in allowed:
                raise BackupRefused(_l("The backup holds a table this version does not know "
                                       "(%(table)s).", table=name))
            try:
                count = whole._load_rows(table, whole._file_of(tar, member).read())
            except sa_exc.IntegrityError as error:
                raise BackupRefused(_l(
                    "Rows of this archive (table %(table)s) have the ids of rows another "
                    "institution holds now: nothing was restored. Restore it into a "
                    "deployment where these ids are free.", table=name)) from error
            report.rows[name] = report.rows.get(name, 0) + count
        elif kind == "files" and member.isfile():
            try:
                whole._write_file(rest, whole._file_of(tar, member))
            except FileExistsError as error:
                raise BackupRefused(_l("An upload file of this archive exists already: "
                                       "nothing was restored.")) from error
            report.files += 1
        else:
            raise BackupRefused(_l("The backup holds an unexpected file name: nothing was "
                                   "restored."))
    for name in allowed:
        report.rows.setdefault(name, 0)
    return institution_id


def restore(slug: str, path: str, recovery_code: str, *,
            accept_broken_audit_chain: bool = False) -> InstitutionRestoreReport:
    """Put one institution back, in one transaction; other institutions are not touched."""
    recovery = whole.recovery_key(recovery_code)
    report = InstitutionRestoreReport(slug=slug)
    with whole.all_or_nothing():
        with open(path, "rb") as source:
            backup_id, archive_key = open_header(source, recovery)
            archive = stream.open_archive(source, archive_key, backup_id)
            with tarfile.open(fileobj=archive, mode="r|") as tar:
                institution_id = _load(tar, slug, report)
        whole._reset_sequences()
        report.missing_files = sum(
            1 for name in storage_names(institution_id)
            if not os.path.exists(whole.upload_path(name)))
        chain_break = audit.verify()
        if chain_break is not None and chain_break.institution_id == institution_id:
            report.audit_chain = chain_break
            if not accept_broken_audit_chain:
                whole.refuse_broken_chain(chain_break)
    return report

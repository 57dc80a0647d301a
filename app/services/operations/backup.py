"""Encrypted backups: `flask --app wsgi backup create PATH` and `backup restore PATH`.

A backup is made unattended (cron) with public keys only, and opened only with the institution's
recovery code: a random archive key is sealed to each institution's recovery public key, and the
archive is encrypted under it in 1 MiB chunks (app.crypto.stream), so a stolen backup, even with
the server's configuration, reveals nothing, not even the names of the tables.

The file format and its streams are in backup_format.

The rows are read in one snapshot (REPEATABLE READ, read only, on PostgreSQL; one read
transaction on SQLite). An evidence file is never changed once written, only shredded when it
is deleted; the files the snapshot's rows refer to are copied after the snapshot (one deleted
meanwhile is counted as missing). A restore goes into an empty database migrated to the same
revision, in one transaction: a failure leaves the database and the upload folder empty.
Staff TOTP secrets are sealed under SECRET_KEY, which a backup does not hold: restore with the
same SECRET_KEY.
"""
import io
import json
import os
import re
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import IO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, Integer, inspect, literal, select, text

from ...crypto import DecryptionError, keys, stream
from ...extensions import db
from ...models import Attachment, Institution, PlanEvidence
from ...models.types import utcnow
from ..audit import chain as audit
from ..intake.evidence import upload_path
from ..transaction import stage_file
from .backup_format import (
    FORMAT,
    ID_BYTES,
    PART_BYTES,
    BackupRefused,
    decoder,
    encode_value,
    header,
    open_header,
)

INSERT_BATCH = 500
STORAGE_NAME = re.compile(r"^[0-9a-f]{32}$")  # evidence.store_evidence: token_hex(16)


@dataclass
class BackupReport:
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    missing_files: int = 0  # deleted (purged, redacted) between the snapshot and the copy
    size: int = 0  # bytes of the backup file


@dataclass
class RestoreReport:
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    missing_files: int = 0
    audit_chain: audit.ChainBreak | None = None


# --- create --------------------------------------------------------------------------------------

@contextmanager
def _snapshot() -> Iterator[Connection]:
    """A connection that sees one consistent state of the whole database, read only."""
    with db.engine.connect() as connection:
        dialect = connection.dialect.name
        if dialect == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ",
                                         postgresql_readonly=True)
        elif dialect == "sqlite":
            # pysqlite opens no transaction for SELECTs: without this, each table would be
            # read at its own moment.
            connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            connection.rollback()


def _add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
    tar.addfile(info, io.BytesIO(data))


def _dump_table(tar: tarfile.TarFile, connection: Connection, table, where=None) -> int:
    names = [column.name for column in table.columns]
    statement = select(table).order_by(*table.primary_key.columns)
    if where is not None:
        statement = statement.where(where)
    statement = statement.execution_options(yield_per=1000)
    buffer, part, count = io.BytesIO(), 0, 0

    def flush():
        nonlocal buffer, part
        if buffer.tell():
            part += 1
            _add_member(tar, f"tables/{table.name}/{part:06d}.jsonl", buffer.getvalue())
            buffer = io.BytesIO()

    for row in connection.execute(statement):
        document = {name: encode_value(value) for name, value in zip(names, row, strict=True)}
        buffer.write(json.dumps(document, ensure_ascii=False).encode() + b"\n")
        count += 1
        if buffer.tell() >= PART_BYTES:
            flush()
    flush()
    return count


def _write_archive(sink, report: BackupReport) -> None:
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        with _snapshot() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")) \
                .scalar_one()
            manifest = {"format": FORMAT, "alembic_revision": revision,
                        "created_at": utcnow().isoformat(),
                        "tables": [table.name for table in db.metadata.sorted_tables]}
            _add_member(tar, "manifest.json", json.dumps(manifest).encode())
            for table in db.metadata.sorted_tables:
                report.rows[table.name] = _dump_table(tar, connection, table)
            # Evidence of cases and the plan's verification documents, both encrypted.
            storage_names = [
                *connection.execute(select(Attachment.storage_name)
                                    .order_by(Attachment.id)).scalars(),
                *connection.execute(select(PlanEvidence.storage_name)
                                    .order_by(PlanEvidence.id)).scalars()]
        _add_files(tar, storage_names, report)


def _add_files(tar: tarfile.TarFile, storage_names: list[str], report: BackupReport) -> None:
    for storage_name in storage_names:
        try:
            source = open(upload_path(storage_name), "rb")
        except FileNotFoundError:
            report.missing_files += 1
            continue
        with source:
            info = tarfile.TarInfo(f"files/{storage_name}")
            info.size, info.mtime, info.mode = os.fstat(source.fileno()).st_size, 0, 0o600
            tar.addfile(info, source)
        report.files += 1


def create(path: str) -> BackupReport:
    """Write an encrypted backup to `path` (replaced only once the new one is complete)."""
    recipients = list(db.session.scalars(select(Institution.recovery_public_key)
                                         .order_by(Institution.id)))
    db.session.rollback()  # the snapshot runs on its own connection
    if not recipients:
        raise BackupRefused(_l("There is no institution yet, so there is nothing to back up."))
    if len(recipients) > 255:
        raise BackupRefused(_l("Too many institutions for one backup file."))
    report = BackupReport()
    report.size = write_encrypted(path, recipients, lambda sink: _write_archive(sink, report))
    return report


def write_encrypted(path: str, recipients: list[bytes], write_archive) -> int:
    """Stream `write_archive(sink)`'s tar into `path`, encrypted under a new archive key sealed
    to `recipients` (recovery public keys); the file appears only once complete. Its size."""
    backup_id, archive_key = os.urandom(ID_BYTES), stream.new_archive_key()
    directory = os.path.dirname(os.path.abspath(path))
    handle, partial = tempfile.mkstemp(prefix=".avertizor-backup-", dir=directory)  # 0600
    try:
        with os.fdopen(handle, "wb") as target:
            target.write(header(backup_id, archive_key, recipients))
            pipe = stream.EncryptingPipe(target, archive_key, backup_id)
            try:
                write_archive(pipe.writer)
            except BrokenPipeError:
                pass  # the encrypting thread failed: close() raises its error
            finally:
                pipe.close()
            target.flush()
            os.fsync(target.fileno())
            size = target.tell()
        os.replace(partial, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.remove(partial)
        raise
    return size


# --- restore -------------------------------------------------------------------------------------

def _target_revision() -> str | None:
    if not inspect(db.engine).has_table("alembic_version"):
        return None
    return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _require_empty_target() -> None:
    if _target_revision() is None:
        raise BackupRefused(_l("The target database has no tables yet: run "
                               "`flask --app wsgi db upgrade` first."))
    filled = [table.name for table in db.metadata.sorted_tables
              if db.session.execute(select(literal(1)).select_from(table).limit(1)).first()]
    if filled:
        raise BackupRefused(_l("The target database is not empty (%(tables)s). A backup is "
                               "restored only into a new, freshly migrated database.",
                               tables=", ".join(filled)))
    folder = current_app.config["UPLOAD_FOLDER"]
    if os.path.isdir(folder) and any(os.scandir(folder)):
        raise BackupRefused(_l("The upload folder %(folder)s is not empty. A backup is "
                               "restored only into an empty one.", folder=folder))


def _check_manifest(document: dict) -> None:
    if document.get("format") != FORMAT:
        raise BackupRefused(_l("This backup was made by another version of Avertizor."))
    revision = _target_revision()
    if document.get("alembic_revision") != revision:
        raise BackupRefused(_l("The backup's database schema (%(backup)s) differs from the "
                               "target's (%(target)s): migrate the target to the backup's "
                               "revision first.", backup=document.get("alembic_revision"),
                               target=revision))


def _load_rows(table, data: bytes) -> int:
    decoders = {column.name: decoder(column) for column in table.columns}
    rows = []
    for line in data.splitlines():
        document = json.loads(line)
        rows.append({name: (decoders[name](value) if value is not None and decoders.get(name)
                            else value) for name, value in document.items()})
    for start in range(0, len(rows), INSERT_BATCH):
        db.session.execute(table.insert(), rows[start:start + INSERT_BATCH])
    return len(rows)


def _write_file(name: str, source) -> None:
    if not STORAGE_NAME.match(name):
        raise BackupRefused(_l("The backup holds an unexpected file name: nothing was "
                               "restored."))
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, name)
    target = open(path, "xb")  # never over an existing file, which staging would remove
    stage_file(path)  # removed again if the transaction does not commit
    with target:
        while block := source.read(stream.CHUNK_BYTES):
            target.write(block)
        target.flush()
        os.fsync(target.fileno())


def _file_of(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    source = tar.extractfile(member)
    if source is None:  # a directory, link or device where a file belongs
        raise BackupRefused(_l("This file is not an Avertizor backup, or it is damaged."))
    return source


def _load_archive(tar: tarfile.TarFile, report: RestoreReport) -> None:
    member = tar.next()
    if member is None or member.name != "manifest.json":
        raise BackupRefused(_l("This file is not an Avertizor backup, or it is damaged."))
    _check_manifest(json.loads(_file_of(tar, member).read()))
    while (member := tar.next()) is not None:
        kind, _, rest = member.name.partition("/")
        if kind == "tables" and member.isfile():
            name = rest.partition("/")[0]
            table = db.metadata.tables.get(name)
            if table is None:
                raise BackupRefused(_l("The backup holds a table this version does not know "
                                       "(%(table)s).", table=name))
            count = _load_rows(table, _file_of(tar, member).read())
            report.rows[name] = report.rows.get(name, 0) + count
        elif kind == "files" and member.isfile():
            _write_file(rest, _file_of(tar, member))
            report.files += 1
        else:
            raise BackupRefused(_l("The backup holds an unexpected file name: nothing was "
                                   "restored."))
    for table in db.metadata.sorted_tables:
        report.rows.setdefault(table.name, 0)


def _reset_sequences() -> None:
    """PostgreSQL hands out ids from sequences, which the inserts above did not advance."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    quote = db.session.get_bind().dialect.identifier_preparer.quote
    for table in db.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
                name, key = quote(table.name), quote(column.name)
                # Table and column names come from the models, not from input.
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608  # nosec B608
                    f"COALESCE(MAX({key}), 1), MAX({key}) IS NOT NULL) FROM {name}"),
                    {"table": name, "column": column.name})


def _missing_files() -> int:
    folder = current_app.config["UPLOAD_FOLDER"]
    names = [*db.session.scalars(select(Attachment.storage_name)),
             *db.session.scalars(select(PlanEvidence.storage_name))]
    return sum(1 for name in names if not os.path.exists(os.path.join(folder, name)))


def recovery_key(recovery_code: str):
    """The recovery private key a typed code stands for, or the refusal a restore gives."""
    try:
        return keys.private_key_from_recovery_code(recovery_code or "")
    except ValueError as exc:
        raise BackupRefused(_l("This recovery code does not open this backup.")) from exc


@contextmanager
def all_or_nothing():
    """A restore's one transaction: committed when the block ends, rolled back on any error;
    an archive that does not decrypt or parse is refused in the person's words."""
    try:
        yield
        db.session.commit()
    except (DecryptionError, tarfile.TarError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        db.session.rollback()
        raise BackupRefused(_l("The backup is damaged or was altered: nothing was "
                               "restored.")) from exc
    except BaseException:
        db.session.rollback()
        raise


def refuse_broken_chain(chain_break) -> None:
    raise BackupRefused(_l("The audit chain in this backup is broken (%(where)s); nothing was "
                           "restored.", where=str(chain_break)))


def restore(path: str, recovery_code: str, *, accept_broken_audit_chain: bool = False
            ) -> RestoreReport:
    """Restore a backup into this (empty, migrated) instance, in one transaction."""
    recovery = recovery_key(recovery_code)
    report = RestoreReport()
    with all_or_nothing():
        with open(path, "rb") as source:
            backup_id, archive_key = open_header(source, recovery)
            _require_empty_target()
            archive = stream.open_archive(source, archive_key, backup_id)
            with tarfile.open(fileobj=archive, mode="r|") as tar:
                _load_archive(tar, report)
        _reset_sequences()
        report.missing_files = _missing_files()
        report.audit_chain = audit.verify()
        if report.audit_chain is not None and not accept_broken_audit_chain:
            refuse_broken_chain(report.audit_chain)
    return report


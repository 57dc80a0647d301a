"""The plan's verification documents (the approved act, the minutes, the attendance list):
checked like a report's evidence (intake/evidence.py: count, sizes, kinds, image metadata
removed), encrypted on disk in chunks under a fresh file key, with the name and type
encrypted too.

The plan is not a case: there is no case key and no reader to seal to. The file key is
wrapped under app_key("plan-evidence"), derived from the configuration, as the portal does
for its other server-side secrets (outbox, TOTP): a stolen database or upload folder alone
reveals neither the documents nor their names; with the configuration they are readable, like
any document the institution publishes. Nothing is public unless marked so."""
import json
import os
import secrets
import uuid
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...crypto import DecryptionError
from ...crypto import files as file_crypto
from ...crypto.appkey import Purpose, app_key
from ...extensions import db
from ...models import PlanEvidence, StaffMember
from ..audit import chain as audit
from ..errors import EvidenceUnavailable
from ..intake.evidence import (
    DecryptedFile,
    prepare_evidence,
    sealed_size,
    upload_path,
    write_encrypted,
)
from . import access
from .following import check_year


@dataclass(frozen=True)
class EvidenceLine:
    id: int
    name: str
    mimetype: str
    size: int
    public: bool


def _key() -> bytes:
    return app_key(Purpose.PLAN_EVIDENCE)


def _store_one(evidence, row: PlanEvidence) -> None:
    file_key, size = write_encrypted(evidence.stream, row.storage_name, row.uuid,
                                     full=_l("The server has no room for the file right now. "
                                             "Nothing was saved; please try again later."))
    meta = {"name": evidence.filename, "type": evidence.mimetype, "size": size}
    row.wrapped_file_key = file_crypto.wrap_file_key(_key(), row.uuid, file_key)
    row.meta = file_crypto.encrypt_meta(_key(), row.uuid, json.dumps(meta).encode())


def add_evidence(member: StaffMember, measure_id: int, year: int, uploads,
                 public: bool = False) -> list[PlanEvidence]:
    measure = access.measure_for(member, measure_id)
    access.require_follow(member, measure)
    check_year(year)
    rows = []
    for evidence in prepare_evidence(uploads):
        row = PlanEvidence(institution_id=member.institution_id, measure_id=measure.id,
                           year=year, uuid=str(uuid.uuid4()), storage_name=secrets.token_hex(16),
                           public=public, uploaded_by_staff_id=member.id)
        _store_one(evidence, row)
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    if rows:
        audit.record("plan_evidence_added", institution_id=member.institution_id,
                     actor=member, detail={"measure_id": measure.id, "year": year,
                                           "files": [row.id for row in rows]})
    return rows


def _meta(row: PlanEvidence) -> dict:
    try:
        return json.loads(file_crypto.decrypt_meta(_key(), row.uuid, row.meta))
    except DecryptionError:
        return {"name": "?", "type": "application/octet-stream", "size": 0}


def line(row: PlanEvidence) -> EvidenceLine:
    meta = _meta(row)
    return EvidenceLine(row.id, meta["name"], meta["type"], meta["size"], row.public)


def listed(measure_id: int, year: int | None = None, public_only: bool = False) \
        -> list[EvidenceLine]:
    query = select(PlanEvidence).where(PlanEvidence.measure_id == measure_id)
    if year is not None:
        query = query.where(PlanEvidence.year == year)
    if public_only:
        query = query.where(PlanEvidence.public.is_(True))
    return [line(row) for row in db.session.scalars(query.order_by(PlanEvidence.id))]


def _open(row: PlanEvidence) -> tuple[DecryptedFile, str, int]:
    """(chunks, name, size), every value read now: the body streams after the commit."""
    meta = _meta(row)
    unavailable = EvidenceUnavailable(_l(
        "This file cannot be opened: it is missing or damaged on the server. Ask the "
        "administrator to restore it from the backup."))
    file_uuid, path = row.uuid, upload_path(row.storage_name)
    try:
        file_key = file_crypto.unwrap_file_key(_key(), file_uuid, row.wrapped_file_key)
        source = open(path, "rb")  # noqa: SIM115 (closed by DecryptedFile)
    except (OSError, DecryptionError) as exc:
        raise unavailable from exc
    try:
        if os.fstat(source.fileno()).st_size != sealed_size(meta["size"]):
            raise DecryptionError("the file's length does not match its description")
        rest = file_crypto.decrypt_stream(source, file_key, file_uuid)
        first = next(rest)
    except (OSError, DecryptionError, StopIteration) as exc:
        source.close()
        raise unavailable from exc
    return DecryptedFile(source, first, rest), meta["name"], meta["size"]


def _row(institution_id: int, evidence_id: int) -> PlanEvidence:
    row = db.session.get(PlanEvidence, evidence_id)
    if row is None or row.institution_id != institution_id:
        raise access.PlanNotFound(_l("This document does not exist (any more)."))
    return row


def download(member: StaffMember, evidence_id: int):
    access.require_reader(member)
    row = _row(member.institution_id, evidence_id)
    opened = _open(row)
    audit.record("plan_evidence_downloaded", institution_id=member.institution_id,
                 actor=member, detail={"file": row.id})
    return opened


def public_download(institution_id: int, evidence_id: int):
    """A document the coordinator marked public, on a published plan; PlanNotFound otherwise."""
    row = _row(institution_id, evidence_id)
    plan = access.current_plan(institution_id)
    if not row.public or plan is None or not plan.published:
        raise access.PlanNotFound(_l("This document does not exist (any more)."))
    return _open(row)


def set_public(member: StaffMember, evidence_id: int, public: bool) -> tuple[int, int]:
    """Mark a document public or private; returns its (measure id, year) to go back to."""
    access.require_coordinator(member)
    row = _row(member.institution_id, evidence_id)
    row.public = public
    db.session.flush()
    audit.record("plan_evidence_visibility", institution_id=member.institution_id,
                 actor=member, detail={"file": row.id, "public": public})
    return row.measure_id, row.year

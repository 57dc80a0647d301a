"""Onboarding institutions, one or a whole CSV at a time: each gets its own recovery key pair
and receipt salt, its first administrator is invited by e-mail (by the platform operator, so
no staff member invites), and its recovery code goes only onto a printable page (PDF) to be
handed over sealed. The code is never stored.

An import is all or nothing: every row is checked first and every bad row reported with its
line number; then all institutions are created in the caller's one transaction, and the
pages are staged files (services.transaction), removed again if that transaction does not
commit, so no page exists for an institution that does not, nor an institution without its
page.
"""
import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import lazy_gettext as _l

from ...crypto import keys
from ...documents.recovery_page import recovery_document
from ...documents.to_pdf import render_pdf
from ...models import Institution, Invitation, Role
from ...models.types import utcnow
from ..audit import chain as audit
from ..errors import DomainError
from ..staff.invitations import invite_by_operator
from ..transaction import stage_file
from .institutions import (
    InstitutionProfile,
    InstitutionRefused,
    check_identifiers_free,
    create_from_profile,
    unique_slug,
    validated_profile,
)

CSV_COLUMNS = ("name", "county", "siruta", "cui", "admin_email")
MAX_ROWS = 5000
ADMIN_NAME = "Administrator"
_MAIL_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


class ImportRefused(DomainError):
    """The file has errors; `errors` lists each with its line number; nothing was created."""

    def __init__(self, message, errors: list["RowError"] | None = None):
        super().__init__(message)
        self.errors = errors or []


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ImportRow:
    line: int
    profile: InstitutionProfile
    admin_email: str | None


@dataclass
class Onboarded:
    institution: Institution
    recovery_code: str  # only in memory, for the printable page
    invitation: Invitation | None
    page: Path | None = None


def _admin_email(value: str | None) -> str | None:
    email = (value or "").strip().lower() or None
    if email is not None and not _MAIL_ADDRESS.match(email):
        raise InstitutionRefused(_l("The administrator's e-mail address is not valid."),
                                 field="admin_email")
    return email


def onboard(name: str, *, admin_email: str | None, public_url: str,
            county: str | None = None, siruta_code: str | None = None, cui: str | None = None,
            admin_name: str = ADMIN_NAME, **contacts: str | None) -> Onboarded:
    """One institution, with its administrator's invitation queued (not yet committed)."""
    profile = validated_profile(name, county=county, siruta_code=siruta_code, cui=cui,
                                **contacts)
    email = _admin_email(admin_email)
    check_identifiers_free(profile)
    return _onboard(profile, unique_slug(profile.name), email, admin_name, public_url)


def _onboard(profile: InstitutionProfile, slug: str, admin_email: str | None,
             admin_name: str, public_url: str,
             recovery_key: X25519PrivateKey | None = None) -> Onboarded:
    institution, code = create_from_profile(profile, slug, recovery_key)
    audit.record("institution_created", institution_id=institution.id,
                 detail={"slug": slug, "siruta": profile.siruta_code, "cui": profile.cui})
    invitation = None
    if admin_email:
        invitation, _link = invite_by_operator(institution, name=admin_name, email=admin_email,
                                               roles=[Role.ADMIN], public_url=public_url)
    return Onboarded(institution, code, invitation)


# --- CSV -----------------------------------------------------------------------------------------

def read_csv(data: bytes | str) -> list[ImportRow]:
    """The rows of an import file (UTF-8, with or without a BOM; a header row naming the
    columns name, county, siruta, cui, admin_email in any order; comma or semicolon, as Excel
    writes it in Romania). Raises ImportRefused listing every bad row."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ImportRefused(_l("The file is not UTF-8 text: save it from the spreadsheet "
                                   "as “CSV UTF-8”.")) from error
    else:
        text = data.removeprefix("\ufeff")
    first_line = text.partition("\n")[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [cell.strip().lower() for cell in next(reader, [])]
    missing = [column for column in CSV_COLUMNS if column not in header]
    if missing:
        raise ImportRefused(_l("The header row lacks the column(s) %(columns)s; it needs "
                               "%(all)s.", columns=", ".join(missing),
                               all=", ".join(CSV_COLUMNS)))
    position = {column: header.index(column) for column in CSV_COLUMNS}
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            raise ImportRefused(_l("At most %(count)d institutions per file.", count=MAX_ROWS))
        value = {column: (cells[index] if index < len(cells) else "")
                 for column, index in position.items()}
        try:
            profile = validated_profile(value["name"], county=value["county"],
                                        siruta_code=value["siruta"], cui=value["cui"])
            email = _admin_email(value["admin_email"])
            if email is None:
                raise InstitutionRefused(_l("The administrator's e-mail address is missing."),
                                         field="admin_email")
            check_identifiers_free(profile)
            for kind, code in (("SIRUTA", profile.siruta_code), ("CUI", profile.cui)):
                if code and (kind, code) in seen:
                    raise InstitutionRefused(_l("%(kind)s %(code)s is also on line %(line)d.",
                                                kind=kind, code=code,
                                                line=seen[(kind, code)]))
        except InstitutionRefused as error:
            errors.append(RowError(line, str(error.message)))
            continue
        for kind, code in (("SIRUTA", profile.siruta_code), ("CUI", profile.cui)):
            if code:
                seen[(kind, code)] = line
        rows.append(ImportRow(line, profile, email))
    if errors:
        raise ImportRefused(_l("The file has %(count)d row(s) with errors; no institution was "
                               "created.", count=len(errors)), errors)
    if not rows:
        raise ImportRefused(_l("The file holds no institution."))
    return rows


def import_institutions(rows: list[ImportRow], *, public_url: str, out_dir: str | Path,
                        progress: Callable[[int, int, str], None] | None = None
                        ) -> list[Onboarded]:
    """Create every row's institution and write its page into `out_dir`, in the caller's
    transaction (commit once at the end; a failure removes the pages written).

    The pages are rendered first (≈ 0.17 s each, the font work of the PDF), before anything
    is written to the database: on SQLite the write lock, which stops the portal's writes,
    is then held for the inserts only, not for thousands of PDFs."""
    taken: set[str] = set()
    prepared = []
    for number, row in enumerate(rows, start=1):
        slug = unique_slug(row.profile.name, taken)
        taken.add(slug)
        recovery_key = X25519PrivateKey.generate()
        profile = row.profile
        page = render_recovery_page(name=profile.name, slug=slug, county=profile.county,
                                    siruta_code=profile.siruta_code, cui=profile.cui,
                                    code=keys.recovery_code(recovery_key))
        prepared.append((row, slug, recovery_key, page))
        if progress is not None:
            progress(number, len(rows), profile.name)
    made = []
    for row, slug, recovery_key, page in prepared:
        onboarded = _onboard(row.profile, slug, row.admin_email, ADMIN_NAME, public_url,
                             recovery_key)
        write_recovery_page(onboarded, out_dir, page)
        made.append(onboarded)
    return made


# --- the printable page --------------------------------------------------------------------------

def render_recovery_page(*, name: str, slug: str, county: str | None,
                         siruta_code: str | None, cui: str | None, code: str) -> bytes:
    return render_pdf(recovery_document(name=name, slug=slug, county=county,
                                        siruta_code=siruta_code, cui=cui, code=code,
                                        made_at=utcnow()))


def recovery_pdf(onboarded: Onboarded) -> bytes:
    institution = onboarded.institution
    return render_recovery_page(name=institution.name, slug=institution.slug,
                                county=institution.county, siruta_code=institution.siruta_code,
                                cui=institution.cui, code=onboarded.recovery_code)


def write_recovery_page(onboarded: Onboarded, out_dir: str | Path,
                        data: bytes | None = None) -> Path:
    """`<out_dir>/<slug>-recovery.pdf`, readable by its owner only, never over another file;
    staged: removed again if the transaction that created the institution does not commit."""
    folder = Path(out_dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{onboarded.institution.slug}-recovery.pdf"
    data = data if data is not None else recovery_pdf(onboarded)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise InstitutionRefused(_l("%(path)s exists already: choose an empty folder for the "
                                    "recovery pages.", path=str(path))) from error
    stage_file(str(path))
    with os.fdopen(descriptor, "wb") as target:
        target.write(data)
        target.flush()
        os.fsync(target.fileno())
    onboarded.page = path
    return path

"""Setting up an institution: its recovery key pair, receipt salt and public identity (name,
county, SIRUTA code, CUI, contacts); the platform operator's list, suspension and resumption.

An institution's slug is the first segment of its public path (`/<slug>/report`), so it is
unique and never one of the portal's own top-level segments (RESERVED_SLUGS).
"""
import re
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ...crypto import keys
from ...crypto.seal import public_bytes
from ...extensions import db
from ...models import Institution
from ...models.types import utcnow
from ..audit import chain as audit
from ..errors import DomainError
from .settings import SettingsRefused, _cui, _siruta

# The portal's own first path segments: an institution named "Staff" or "Portal" must not
# shadow them.
RESERVED_SLUGS = frozenset({"staff", "static", "report", "follow-up", "privacy",
                            "transparency", "plan", "voice", "open-data", "portal", "operator",
                            "observer", "healthz", "api", "favicon.ico", "robots.txt"})
MAX_NAME = 200
MAX_SLUG = 80
MAX_COUNTY = 40
# The text columns of the model and their lengths, for the optional contacts.
CONTACT_LIMITS = {"address": 300, "phone": 40, "office_hours": 200, "public_email": 254,
                  "dpo_contact": 300}
_MAIL_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


class InstitutionRefused(DomainError):
    pass


class NoSuchInstitution(DomainError):
    pass


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:MAX_SLUG - 4]
    return slug.strip("-") or "institution"


def unique_slug(name: str, taken: set[str] | None = None) -> str:
    """The name's slug, with -2, -3… when an institution (or `taken`, for a batch not yet
    flushed) has it already or when it is one of the portal's own segments."""
    base = slugify(name)
    existing = set(db.session.scalars(select(Institution.slug).where(
        (Institution.slug == base) | Institution.slug.like(f"{base}-%"))))
    existing |= taken or set()
    candidate, number = base, 1
    while candidate in existing or candidate in RESERVED_SLUGS:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


@dataclass(frozen=True)
class InstitutionProfile:
    """What identifies an institution publicly, checked and normalised (CUI digits only)."""

    name: str
    county: str | None = None
    siruta_code: str | None = None
    cui: str | None = None
    address: str | None = None
    phone: str | None = None
    office_hours: str | None = None
    public_email: str | None = None
    dpo_contact: str | None = None


def _text(value: str | None) -> str | None:
    return " ".join((value or "").split()) or None


def validated_profile(name: str, *, county: str | None = None, siruta_code: str | None = None,
                      cui: str | None = None, **contacts: str | None) -> InstitutionProfile:
    """The profile, or InstitutionRefused naming the first field to correct."""
    name_ = _text(name)
    if not name_:
        raise InstitutionRefused(_l("Please enter the institution's name."), field="name")
    if len(name_) > MAX_NAME:
        raise InstitutionRefused(_l("The name has at most %(count)d characters.",
                                    count=MAX_NAME), field="name")
    county_ = _text(county)
    if county_ and len(county_) > MAX_COUNTY:
        raise InstitutionRefused(_l("The county has at most %(count)d characters.",
                                    count=MAX_COUNTY), field="county")
    try:
        siruta_, cui_ = _siruta(siruta_code), _cui(cui)
    except SettingsRefused as error:  # the same rules as the institution's settings page
        raise InstitutionRefused(error.message, field=error.field) from error
    unknown = set(contacts) - set(CONTACT_LIMITS)
    if unknown:
        raise TypeError(f"unknown institution fields: {sorted(unknown)}")
    cleaned = {}
    for key, limit in CONTACT_LIMITS.items():
        value = (contacts.get(key) or "").strip() or None
        if value is not None and len(value) > limit:
            raise InstitutionRefused(_l("This field has at most %(count)d characters.",
                                        count=limit), field=key)
        cleaned[key] = value
    if cleaned["public_email"] and not _MAIL_ADDRESS.match(cleaned["public_email"]):
        raise InstitutionRefused(_l("Please enter a valid e-mail address."),
                                 field="public_email")
    return InstitutionProfile(name=name_, county=county_, siruta_code=siruta_, cui=cui_,
                              **cleaned)


def check_identifiers_free(profile: InstitutionProfile) -> None:
    """Two institutions never share a SIRUTA code or a CUI (open data joins on them)."""
    if profile.siruta_code and db.session.scalar(select(Institution.id).where(
            Institution.siruta_code == profile.siruta_code)):
        raise InstitutionRefused(_l("An institution with SIRUTA code %(code)s exists already.",
                                    code=profile.siruta_code), field="siruta_code")
    if profile.cui and db.session.scalar(select(Institution.id).where(
            Institution.cui == profile.cui)):
        raise InstitutionRefused(_l("An institution with CUI %(code)s exists already.",
                                    code=profile.cui), field="cui")


def create_institution(name: str, *, county: str | None = None,
                       siruta_code: str | None = None, cui: str | None = None,
                       slug: str | None = None, **contacts: str | None
                       ) -> tuple[Institution, str]:
    """The new institution and its recovery code. The code is returned once and never stored:
    whoever keeps it can open every case, so it belongs in the institution's safe."""
    profile = validated_profile(name, county=county, siruta_code=siruta_code, cui=cui,
                                **contacts)
    check_identifiers_free(profile)
    return _create(profile, slug or unique_slug(profile.name))


def _create(profile: InstitutionProfile, slug: str,
            recovery_key: X25519PrivateKey | None = None) -> tuple[Institution, str]:
    recovery_key = recovery_key or X25519PrivateKey.generate()
    institution = Institution(
        name=profile.name, slug=slug, county=profile.county,
        siruta_code=profile.siruta_code, cui=profile.cui, address=profile.address,
        phone=profile.phone, office_hours=profile.office_hours,
        public_email=profile.public_email, dpo_contact=profile.dpo_contact,
        recovery_public_key=public_bytes(recovery_key.public_key()),
        receipt_salt=keys.new_salt(),
    )
    db.session.add(institution)
    db.session.flush()
    return institution, keys.recovery_code(recovery_key)


def create_from_profile(profile: InstitutionProfile, slug: str,
                        recovery_key: X25519PrivateKey | None = None
                        ) -> tuple[Institution, str]:
    """For a batch already validated as a whole (onboarding.import_institutions), whose
    recovery keys were made, and their pages printed, before its transaction."""
    return _create(profile, slug, recovery_key)


def default_institution() -> Institution | None:
    """The institution this deployment serves (the first one set up)."""
    return db.session.scalar(select(Institution).order_by(Institution.id).limit(1))


def institution_of(row) -> Institution:
    """The institution a tenant-owned row (case, staff member...) belongs to."""
    return db.session.get_one(Institution, row.institution_id)


# --- the platform operator's list ----------------------------------------------------------------

def by_slug(slug: str) -> Institution:
    institution = db.session.scalar(select(Institution).where(
        Institution.slug == (slug or "").strip().lower()))
    if institution is None:
        raise NoSuchInstitution(_l("There is no institution “%(slug)s”.", slug=slug))
    return institution


def list_institutions(county: str | None = None) -> list[Institution]:
    statement = select(Institution).order_by(func.lower(Institution.name), Institution.id)
    if county:
        statement = statement.where(Institution.county == county)
    return list(db.session.scalars(statement))


def suspend(institution: Institution) -> Institution:
    """Its public pages say so and take no reports; its staff keep working on open cases."""
    if institution.suspended_at is not None:
        raise InstitutionRefused(_l("This institution is suspended already."))
    institution.suspended_at = utcnow()
    audit.record("institution_suspended", institution_id=institution.id)
    db.session.flush()
    return institution


def resume(institution: Institution) -> Institution:
    if institution.suspended_at is None:
        raise InstitutionRefused(_l("This institution is not suspended."))
    institution.suspended_at = None
    audit.record("institution_resumed", institution_id=institution.id)
    db.session.flush()
    return institution

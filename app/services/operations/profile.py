"""An institution's public profile: what its pages and privacy notice show so that people can
also report by telephone, post or in person (Law 361/2022 art. 15), and its logo."""
import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from ...extensions import db
from ...models import Institution, Role, StaffMember
from ..access.guards import require_role
from ..audit import chain as audit
from ..errors import DomainError

MAX_LOGO_BYTES = 200 * 1024
MAX_LOGO_SIDE = 1024
LOGO_MIME = "image/png"
# Field → longest value; the same widths as the columns (app/models/institution.py).
LIMITS = {"county": 40, "address": 300, "phone": 40, "office_hours": 200,
          "public_email": 254, "dpo_contact": 300}


class ProfileRefused(DomainError):
    pass


@dataclass
class PublicContacts:
    county: str | None = None
    address: str | None = None
    phone: str | None = None
    office_hours: str | None = None
    public_email: str | None = None
    dpo_contact: str | None = None


def contacts_of(institution: Institution) -> PublicContacts:
    return PublicContacts(**{name: getattr(institution, name) for name in LIMITS})


def _clean(name: str, value: str | None) -> str | None:
    value = " ".join((value or "").split())
    if len(value) > LIMITS[name]:
        raise ProfileRefused(_l("At most %(count)d characters.", count=LIMITS[name]),
                             field=name)
    return value or None


def update_contacts(admin: StaffMember, new: PublicContacts) -> list[str]:
    """Save the contacts; returns the names of the fields that changed (audited, values
    included: they are public)."""
    require_role(admin, Role.ADMIN)
    institution = db.session.get_one(Institution, admin.institution_id)
    changed = []
    for name in LIMITS:
        value = _clean(name, getattr(new, name))
        if getattr(institution, name) != value:
            setattr(institution, name, value)
            changed.append(name)
    if new.public_email and "@" not in new.public_email:
        raise ProfileRefused(_l("This does not look like an e-mail address."),
                             field="public_email")
    if changed:
        audit.record("profile_changed", institution_id=institution.id, actor=admin,
                     detail={"fields": changed})
    return changed


def clean_logo(data: bytes) -> bytes:
    """The logo as the portal serves it: a PNG re-encoded from its pixels (no metadata, no
    chunk of the original survives), at most MAX_LOGO_SIDE pixels a side."""
    if len(data) > MAX_LOGO_BYTES:
        raise ProfileRefused(_l("The logo may be at most %(kb)d KB.", kb=MAX_LOGO_BYTES // 1024),
                             field="logo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise ProfileRefused(_l("The logo must be a PNG image."), field="logo")
            if max(image.size) > 4 * MAX_LOGO_SIDE:
                raise ProfileRefused(_l("The logo is too large: at most %(px)d pixels a side.",
                                        px=MAX_LOGO_SIDE), field="logo")
            image.thumbnail((MAX_LOGO_SIDE, MAX_LOGO_SIDE))
            pixels = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ProfileRefused(_l("The logo must be a PNG image."), field="logo") from error
    out = io.BytesIO()
    pixels.save(out, format="PNG", optimize=True)
    return out.getvalue()


def set_logo(admin: StaffMember, data: bytes | None) -> None:
    """Replace the logo (None removes it)."""
    require_role(admin, Role.ADMIN)
    institution = db.session.get_one(Institution, admin.institution_id)
    institution.logo = clean_logo(data) if data else None
    institution.logo_mime = LOGO_MIME if data else None
    audit.record("logo_changed", institution_id=institution.id, actor=admin,
                 detail={"removed": data is None})

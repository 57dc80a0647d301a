"""Setting up an institution: its recovery key pair and receipt salt."""
import re
import unicodedata

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select

from ...crypto import keys
from ...crypto.seal import public_bytes
from ...extensions import db
from ...models import Institution


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "institution"


def create_institution(name: str) -> tuple[Institution, str]:
    """The new institution and its recovery code. The code is returned once and never stored:
    whoever keeps it can open every case, so it belongs in the institution's safe."""
    recovery_key = X25519PrivateKey.generate()
    institution = Institution(
        name=name,
        slug=slugify(name),
        recovery_public_key=public_bytes(recovery_key.public_key()),
        receipt_salt=keys.new_salt(),
    )
    db.session.add(institution)
    db.session.flush()
    return institution, keys.recovery_code(recovery_key)


def default_institution() -> Institution | None:
    """The institution this deployment serves (the first one set up)."""
    return db.session.scalar(select(Institution).order_by(Institution.id).limit(1))


def institution_of(row) -> Institution:
    """The institution a tenant-owned row (case, staff member...) belongs to."""
    return db.session.get_one(Institution, row.institution_id)

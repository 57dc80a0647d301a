"""Receipt codes: 16 random digits, shown once as `1234 5678 9012 3456`, never stored."""
import re
import secrets

from sqlalchemy import select

from ...crypto import kdf
from ...extensions import db
from ...models import Institution, Receipt

DIGITS = 16


def new_receipt() -> str:
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


def display(receipt: str) -> str:
    return " ".join(receipt[i : i + 4] for i in range(0, DIGITS, 4))


def normalise(typed: str) -> str | None:
    """Digits only; None when it cannot be a receipt (wrong length or stray characters)."""
    digits = re.sub(r"[\s\-.]", "", typed or "")
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else None


def derive(receipt: str, institution: Institution, params: kdf.KdfParams) -> kdf.DerivedSecret:
    return kdf.derive(receipt, institution.receipt_salt, params, purpose="receipt")


def issue(institution: Institution, params: kdf.KdfParams) -> tuple[str, kdf.DerivedSecret]:
    """A fresh receipt whose lookup id is not taken (a clash is astronomically rare)."""
    while True:
        receipt = new_receipt()
        derived = derive(receipt, institution, params)
        taken = db.session.scalar(select(Receipt.id).where(Receipt.lookup_id == derived.public_part))
        if taken is None:
            return receipt, derived


def find(institution: Institution, receipt: str,
         current: kdf.KdfParams) -> tuple[Receipt, kdf.DerivedSecret] | None:
    """The receipt row and derived key. Normally one Argon2id run: older parameter sets are
    tried only while receipts made with them remain."""
    param_sets = set(db.session.scalars(
        select(Receipt.kdf_params).where(Receipt.institution_id == institution.id).distinct()
    ).all()) | {current.encode()}
    for encoded in sorted(param_sets, key=lambda p: p != current.encode()):
        derived = derive(receipt, institution, kdf.KdfParams.decode(encoded))
        row = db.session.scalar(select(Receipt).where(
            Receipt.institution_id == institution.id, Receipt.lookup_id == derived.public_part))
        if row is not None:
            return row, derived
    return None

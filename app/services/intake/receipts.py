"""Receipt codes: 16 random digits, shown once as `1234 5678 9012 3456`, never stored.

A code printed on a paper form has the same format, its last digit a Luhn check digit over the
first fifteen: staff type it at manual intake, and a slip of the pen is caught there instead
of binding the case to a code the reporter does not hold."""
import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...crypto import kdf
from ...extensions import db
from ...models import Institution, Receipt
from ..errors import DomainError

DIGITS = 16


def new_receipt() -> str:
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


def new_paper_code() -> str:
    body = f"{secrets.randbelow(10**(DIGITS - 1)):0{DIGITS - 1}d}"
    return body + _luhn_digit(body)


def is_paper_code(receipt: str) -> bool:
    return receipt[-1] == _luhn_digit(receipt[:-1])


def _luhn_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str((10 - total % 10) % 10)


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


def claim(institution: Institution, typed: str,
          params: kdf.KdfParams) -> tuple[str, kdf.DerivedSecret]:
    """The code typed from a paper form, to become the case's receipt: refused when it cannot
    be a printed code or already opens a case (one form, one case)."""
    receipt = normalise(typed)
    if receipt is None or not is_paper_code(receipt):
        raise DomainError(_l("This is not the code of a paper form: check the 16 digits "
                             "against the form."), field="form_code")
    if find(institution, receipt, params) is not None:
        raise code_in_use()
    return receipt, derive(receipt, institution, params)


def code_in_use() -> DomainError:
    return DomainError(_l("This form's code is already in use for another report: each form "
                          "serves one report. Check the digits, or record the report without "
                          "the code and give the reporter a new receipt."), field="form_code")


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

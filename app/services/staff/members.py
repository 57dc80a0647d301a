"""A staff account and its key pair: creating it (password rules, one account per e-mail) and
unlocking its private key with the password."""
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...crypto.kdf import KdfParams
from ...crypto.keys import PasswordLockedKey
from ...extensions import db
from ...models import Institution, Role, StaffMember
from ..errors import DomainError

MIN_PASSWORD_LENGTH = 12


class StaffExists(DomainError):
    pass


class WeakPassword(DomainError):
    pass


def add_staff(institution: Institution, *, email: str, name: str, roles: list[Role],
              password: str, kdf_params: KdfParams) -> StaffMember:
    """A new staff account; its key pair is made now so reports can be sealed to it."""
    email = email.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(_l("The password needs at least %(count)d characters.",
                              count=MIN_PASSWORD_LENGTH), field="password")
    if db.session.scalar(select(StaffMember.id).where(
            StaffMember.institution_id == institution.id, StaffMember.email == email)):
        raise StaffExists(_l("%(email)s already has an account.", email=email), field="email")
    locked = PasswordLockedKey.create(password, kdf_params)
    member = StaffMember(
        institution_id=institution.id, email=email, name=name.strip(),
        roles=",".join(role.value for role in roles),
        password_salt=locked.salt, password_kdf=locked.kdf_params,
        password_verifier=locked.verifier, public_key=locked.public_key,
        wrapped_private_key=locked.wrapped_private_key,
    )
    db.session.add(member)
    db.session.flush()
    return member


def unlock_private_key(member: StaffMember, password: str) -> X25519PrivateKey | None:
    """The member's private key if the password is right, else None."""
    return PasswordLockedKey.unlock(
        password, member.public_key, member.wrapped_private_key, member.password_verifier,
        member.password_salt, member.password_kdf)

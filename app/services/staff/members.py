"""A staff account and its key pair: creating it (password rules, one account per e-mail),
giving it a place in another institution, and unlocking its private key with the password."""
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...crypto.kdf import KdfParams
from ...crypto.keys import PasswordLockedKey
from ...extensions import db
from ...models import Institution, Role, StaffAccount, StaffMember
from ..errors import DomainError

MIN_PASSWORD_LENGTH = 12


class StaffExists(DomainError):
    pass


class WeakPassword(DomainError):
    pass


def add_staff(institution: Institution, *, email: str, name: str, roles: list[Role],
              password: str, kdf_params: KdfParams) -> StaffMember:
    """A new staff account and its place in `institution`; its key pair is made now so
    reports can be sealed to it."""
    email = email.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(_l("The password needs at least %(count)d characters.",
                              count=MIN_PASSWORD_LENGTH), field="password")
    if account_by_email(email) is not None:
        raise StaffExists(_l("%(email)s already has an account.", email=email), field="email")
    locked = PasswordLockedKey.create(password, kdf_params)
    account = StaffAccount(
        email=email, name=name.strip(),
        password_salt=locked.salt, password_kdf=locked.kdf_params,
        password_verifier=locked.verifier, public_key=locked.public_key,
        wrapped_private_key=locked.wrapped_private_key,
    )
    db.session.add(account)
    db.session.flush()
    return add_membership(account, institution, roles)


def add_membership(account: StaffAccount, institution: Institution,
                   roles: list[Role]) -> StaffMember:
    """The account's place in one more institution (a designated person shared by several
    authorities): the same key pair and TOTP, roles of its own here. Reports of this
    institution are sealed to the account from now on."""
    if account.platform_role is not None:  # the operator and observers serve no institution
        raise StaffExists(_l("%(email)s is a platform account and cannot work for an "
                             "institution.", email=account.email), field="email")
    if member_at(account, institution.id) is not None:
        raise StaffExists(_l("%(email)s already works for this institution.",
                             email=account.email), field="email")
    member = StaffMember(institution_id=institution.id, account_id=account.id, account=account,
                         roles=",".join(role.value for role in roles))
    db.session.add(member)
    db.session.flush()
    return member


def account_by_email(email: str) -> StaffAccount | None:
    return db.session.scalar(select(StaffAccount).where(
        StaffAccount.email == email.strip().lower()))


def member_at(account: StaffAccount, institution_id: int) -> StaffMember | None:
    """The account's place in that institution, if it has one."""
    return db.session.scalar(select(StaffMember).where(
        StaffMember.account_id == account.id, StaffMember.institution_id == institution_id))


def member_by_email(institution_id: int, email: str) -> StaffMember | None:
    """The staff member of that institution with this e-mail, if any."""
    return db.session.scalar(select(StaffMember).join(StaffMember.account).where(
        StaffMember.institution_id == institution_id,
        StaffAccount.email == email.strip().lower()))


def unlock_private_key(who: StaffMember | StaffAccount, password: str
                       ) -> X25519PrivateKey | None:
    """The account's private key if the password is right, else None (`who`: a place, or a
    platform account, which has none)."""
    account = who if isinstance(who, StaffAccount) else who.account
    return PasswordLockedKey.unlock(
        password, account.public_key, account.wrapped_private_key, account.password_verifier,
        account.password_salt, account.password_kdf)

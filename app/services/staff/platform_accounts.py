"""Platform accounts: the people of the deployment rather than of an institution.

- the operator creates, suspends and removes institutions and sees counts only;
- an observer (a county, an association of communes, the ministry) will see suppressed
  indicators of a group: every institution ("*"), a county ("county:Iași") or a list of
  institution ids ("ids:1,2").

A platform account signs in like staff (password, then a TOTP code enrolled at the first
sign-in) and has a key pair like every account, but no place (StaffMember) in any
institution: no report is ever sealed to it, and it is never given one, so it never holds an
institution's roles. The platform role is given only to a new e-mail.
"""
import re

from flask_babel import lazy_gettext as _l

from ...crypto.kdf import KdfParams
from ...crypto.keys import PasswordLockedKey
from ...extensions import db
from ...models import PlatformRole, StaffAccount
from ..errors import DomainError
from .members import MIN_PASSWORD_LENGTH, StaffExists, WeakPassword, account_by_email

_IDS = re.compile(r"^ids:\d+(,\d+)*$")
_MAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
MAX_SCOPE = 2000


class ScopeRefused(DomainError):
    pass


def validated_scope(scope: str) -> str:
    """An observer's group: "*", "county:<name>" or "ids:<id>,<id>…"."""
    value = " ".join((scope or "").split())
    if value == "*" or _IDS.match(value.replace(" ", "")):
        return value.replace(" ", "")
    if value.startswith("county:") and value[len("county:"):].strip() and \
            len(value) <= MAX_SCOPE:
        return "county:" + value[len("county:"):].strip()
    raise ScopeRefused(_l("The scope is “*” (every institution), “county:<name>” or "
                          "“ids:1,2”."), field="scope")


def add_platform_account(email: str, *, name: str, role: PlatformRole, password: str,
                         kdf_params: KdfParams, scope: str | None = None) -> StaffAccount:
    """A new platform account with its key pair (flushed; the caller commits)."""
    email = (email or "").strip().lower()
    if not _MAIL.match(email):
        raise DomainError(_l("Please enter a valid e-mail address."), field="email")
    if not (name or "").strip():
        raise DomainError(_l("Please enter the person's name."), field="name")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(_l("The password needs at least %(count)d characters.",
                              count=MIN_PASSWORD_LENGTH), field="password")
    if account_by_email(email) is not None:
        raise StaffExists(_l("%(email)s already has an account.", email=email), field="email")
    observer_scope = validated_scope(scope or "") if role is PlatformRole.OBSERVER else None
    if role is PlatformRole.OPERATOR and scope:
        raise ScopeRefused(_l("Only an observer has a scope."), field="scope")
    locked = PasswordLockedKey.create(password, kdf_params)
    account = StaffAccount(
        email=email, name=name.strip(), platform_role=role, observer_scope=observer_scope,
        password_salt=locked.salt, password_kdf=locked.kdf_params,
        password_verifier=locked.verifier, public_key=locked.public_key,
        wrapped_private_key=locked.wrapped_private_key,
    )
    db.session.add(account)
    db.session.flush()
    return account

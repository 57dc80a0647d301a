"""Staff accounts as the administrator sees them: roles, deactivation, unlocking.

The administrator manages people, never their keys: nothing here opens or re-seals a case key
(new handlers get existing cases through `flask recovery grant` or a colleague's grant).
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import Role, StaffMember, StaffSession
from ..models.types import utcnow
from . import audit
from .authz import require_role
from .errors import DomainError


class AccountChangeRefused(DomainError):
    pass


class NoSuchAccount(AccountChangeRefused):
    pass


@dataclass
class StaffRow:
    member: StaffMember
    locked: bool


def staff_list(admin: StaffMember) -> list[StaffRow]:
    require_role(admin, Role.ADMIN)
    now = utcnow()
    members = db.session.scalars(
        select(StaffMember).where(StaffMember.institution_id == admin.institution_id)
        .order_by(StaffMember.active.desc(), func.lower(StaffMember.name), StaffMember.id))
    return [StaffRow(member, bool(member.locked_until and member.locked_until > now))
            for member in members]


def staff_member(admin: StaffMember, member_id: int) -> StaffMember:
    """A member of the admin's institution (other institutions' ids do not exist here)."""
    require_role(admin, Role.ADMIN)
    member = db.session.get(StaffMember, member_id)
    if member is None or member.institution_id != admin.institution_id:
        raise NoSuchAccount(_l("There is no such staff account."))
    return member


def is_locked(member: StaffMember) -> bool:
    return bool(member.locked_until and member.locked_until > utcnow())


def _other_active_admins(member: StaffMember) -> int:
    members = db.session.scalars(select(StaffMember).where(
        StaffMember.institution_id == member.institution_id, StaffMember.active.is_(True),
        StaffMember.id != member.id))
    return sum(1 for other in members if other.has_role(Role.ADMIN))


def change_roles(admin: StaffMember, member_id: int, roles: list[Role]) -> StaffMember:
    member = staff_member(admin, member_id)
    if not roles:
        raise AccountChangeRefused(_l("Choose at least one role."), field="roles")
    old = member.role_list
    if member.has_role(Role.ADMIN) and Role.ADMIN not in roles:
        if member.id == admin.id:
            raise AccountChangeRefused(_l("You cannot remove your own administrator role; ask "
                                          "another administrator."), field="roles")
        if member.active and _other_active_admins(member) == 0:
            raise AccountChangeRefused(_l("The institution needs at least one active "
                                          "administrator."), field="roles")
    ordered = [role for role in Role if role in roles]
    if ordered == [role for role in Role if role in old]:
        return member
    member.roles = ",".join(role.value for role in ordered)
    audit.record("staff_roles_changed", institution_id=admin.institution_id, actor=admin,
                 detail={"staff": member.id, "old": [r.value for r in old],
                         "new": [r.value for r in ordered]})
    return member


def deactivate(admin: StaffMember, member_id: int) -> StaffMember:
    """The member can no longer sign in, and every session they have ends now. Their key wraps
    stay, so a reactivated member finds their cases again."""
    member = staff_member(admin, member_id)
    if member.id == admin.id:
        raise AccountChangeRefused(_l("You cannot deactivate your own account."))
    if not member.active:
        raise AccountChangeRefused(_l("This account is already deactivated."))
    if member.has_role(Role.ADMIN) and _other_active_admins(member) == 0:
        raise AccountChangeRefused(_l("The institution needs at least one active "
                                      "administrator."))
    member.active = False
    db.session.execute(delete(StaffSession).where(StaffSession.staff_id == member.id))
    audit.record("staff_deactivated", institution_id=admin.institution_id, actor=admin,
                 detail={"staff": member.id})
    return member


def reactivate(admin: StaffMember, member_id: int) -> StaffMember:
    member = staff_member(admin, member_id)
    if member.active:
        raise AccountChangeRefused(_l("This account is already active."))
    member.active = True
    member.failed_logins = 0
    member.locked_until = None
    audit.record("staff_reactivated", institution_id=admin.institution_id, actor=admin,
                 detail={"staff": member.id})
    return member


def unlock(admin: StaffMember, member_id: int) -> StaffMember:
    """Lift a lockout after too many failed sign-ins."""
    member = staff_member(admin, member_id)
    if not is_locked(member) and not member.failed_logins:
        raise AccountChangeRefused(_l("This account is not locked."))
    member.locked_until = None
    member.failed_logins = 0
    audit.record("staff_unlocked", institution_id=admin.institution_id, actor=admin,
                 detail={"staff": member.id})
    return member

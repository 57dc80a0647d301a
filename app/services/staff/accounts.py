"""Staff accounts as the administrator sees them: roles, deactivation, unlocking, and the
confirmation of trusted roles.

The administrator manages people, never their keys: nothing here opens or re-seals a case key
(new handlers get existing cases through `flask recovery grant` or a colleague's grant).

No one becomes a reader alone (DESIGN.md, People). A trusted role — handler or custodian (who
read cases or identities), admin (who confirms) — counts only once a second person confirmed
the account: someone other than the member and other than whoever proposed the role (the
inviter, or the admin who changed the roles). Who may confirm:

- an active, confirmed administrator other than those two, when there is one;
- otherwise (a commune with a single administrator, who proposed it) an active, confirmed
  handler other than those two — the designated person whose reports the newcomer would
  share —, or the operator with the institution's recovery code (`flask staff confirm`).

An administrator cannot give themself a reader role at all. Every confirmation is audited and
announced, content-free, to the institution's existing handlers.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from ...extensions import db
from ...models import Role, StaffAccount, StaffMember, StaffSession
from ...models.staff import READER_ROLES, TRUSTED_ROLES
from ...models.types import utcnow
from ..access.guards import require_role
from ..audit import chain as audit
from ..errors import DomainError, NotAuthorised
from ..operations import notify


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
        select(StaffMember).join(StaffMember.account)
        .where(StaffMember.institution_id == admin.institution_id)
        .order_by(StaffMember.active.desc(), func.lower(StaffAccount.name), StaffMember.id))
    return [StaffRow(member, bool(member.account.locked_until
                                  and member.account.locked_until > now))
            for member in members]


def staff_member(admin: StaffMember, member_id: int) -> StaffMember:
    """A member of the admin's institution (other institutions' ids do not exist here)."""
    require_role(admin, Role.ADMIN)
    member = db.session.get(StaffMember, member_id)
    if member is None or member.institution_id != admin.institution_id:
        raise NoSuchAccount(_l("There is no such staff account."))
    return member


def is_locked(member: StaffMember) -> bool:
    locked_until = member.account.locked_until
    return bool(locked_until and locked_until > utcnow())


def _active_members(institution_id: int) -> list[StaffMember]:
    return list(db.session.scalars(select(StaffMember).where(
        StaffMember.institution_id == institution_id, StaffMember.active.is_(True))
        .order_by(StaffMember.id)))


def eligible_confirmers(member: StaffMember) -> list[StaffMember]:
    """Who may confirm `member` now (see the module's rule); empty when only the recovery code
    can."""
    others = [other for other in _active_members(member.institution_id)
              if other.id not in (member.id, member.proposed_by_staff_id)]
    admins = [other for other in others if other.has_role(Role.ADMIN)]
    return admins or [other for other in others if other.has_role(Role.HANDLER)]


def may_confirm(confirmer: StaffMember, member: StaffMember) -> bool:
    return any(other.id == confirmer.id for other in eligible_confirmers(member))


def awaiting_confirmation(member: StaffMember) -> list[StaffMember]:
    """Accounts of the institution waiting for a confirmation that `member` may give."""
    return [other for other in _active_members(member.institution_id)
            if other.awaiting_confirmation and may_confirm(member, other)]


def staff_list_for_confirmation(member: StaffMember) -> list[StaffRow]:
    """Accounts of the institution waiting for a confirmation (for admins and handlers: the
    names and roles only)."""
    if not (member.has_role(Role.ADMIN) or member.has_role(Role.HANDLER)):
        raise NotAuthorised(_l("This page is for administrators and designated persons."))
    return [StaffRow(other, False) for other in _active_members(member.institution_id)
            if other.awaiting_confirmation]


def _propose(member: StaffMember, proposer: StaffMember | None) -> None:
    member.confirmed_at = None
    member.confirmed_by_staff_id = None
    member.proposed_by_staff_id = proposer.id if proposer is not None else None


def ask_for_confirmation(member: StaffMember) -> int:
    """Tell whoever may confirm `member` that they wait (content-free)."""
    return notify.confirmation_needed(member, eligible_confirmers(member))


def confirm(confirmer: StaffMember | None, member_id: int, *,
            by_recovery_code: bool = False) -> StaffMember:
    """Confirm a trusted role: from now on new reports are sealed to the member (or their admin
    role counts). `confirmer` is None only with the recovery code (command line)."""
    if confirmer is not None and not (confirmer.has_role(Role.ADMIN)
                                      or confirmer.has_role(Role.HANDLER)):
        raise NotAuthorised(_l("Only administrators and designated persons confirm accounts."))
    member = db.session.get(StaffMember, member_id)
    institution_id = confirmer.institution_id if confirmer is not None else None
    if member is None or (institution_id is not None and member.institution_id !=
                          institution_id):
        raise NoSuchAccount(_l("There is no such staff account."))
    if not member.active:
        raise AccountChangeRefused(_l("This account is deactivated."))
    if not member.awaiting_confirmation:
        raise AccountChangeRefused(_l("This account is not waiting for a confirmation."))
    if confirmer is None:
        if not by_recovery_code:
            raise AccountChangeRefused(_l("A confirmation needs a second person."))
    elif confirmer.id == member.id:
        raise AccountChangeRefused(_l("You cannot confirm your own account."))
    elif confirmer.id == member.proposed_by_staff_id:
        raise AccountChangeRefused(_l("You proposed this role: another person must confirm "
                                      "it."))
    elif not may_confirm(confirmer, member):
        raise AccountChangeRefused(_l("You cannot confirm this account: another "
                                      "administrator (or, with a single administrator, a "
                                      "designated person) must."))
    member.confirmed_at = utcnow()
    member.confirmed_by_staff_id = confirmer.id if confirmer is not None else None
    audit.record("staff_confirmed", institution_id=member.institution_id, actor=confirmer,
                 detail={"staff": member.id, "roles": [r.value for r in member.role_list],
                         "proposed_by": member.proposed_by_staff_id,
                         "by": "recovery_code" if confirmer is None else "staff"})
    if member.is_reader:
        notify.new_reader(member, "confirmed")
    return member


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
    added = [role for role in ordered if role not in old and role in TRUSTED_ROLES]
    if member.id == admin.id and any(role in READER_ROLES for role in added):
        raise AccountChangeRefused(_l("You cannot give yourself a role that reads reports: "
                                      "another administrator can, or the operator with the "
                                      "recovery code."), field="roles")
    member.roles = ",".join(role.value for role in ordered)
    if added:
        # A new trusted role waits for a second person, whoever proposed it.
        _propose(member, admin)
    audit.record("staff_roles_changed", institution_id=admin.institution_id, actor=admin,
                 detail={"staff": member.id, "old": [r.value for r in old],
                         "new": [r.value for r in ordered],
                         "awaiting_confirmation": bool(added)})
    if added and member.active:
        ask_for_confirmation(member)
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
    member.account.failed_logins = 0
    member.account.locked_until = None
    audit.record("staff_reactivated", institution_id=admin.institution_id, actor=admin,
                 detail={"staff": member.id})
    return member


def unlock(admin: StaffMember, member_id: int) -> StaffMember:
    """Lift a lockout after too many failed sign-ins."""
    member = staff_member(admin, member_id)
    if not is_locked(member) and not member.account.failed_logins:
        raise AccountChangeRefused(_l("This account is not locked."))
    member.account.locked_until = None
    member.account.failed_logins = 0
    audit.record("staff_unlocked", institution_id=admin.institution_id, actor=admin,
                 detail={"staff": member.id})
    return member

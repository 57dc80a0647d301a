"""Inviting staff: a one-time activation link, then the invitee sets a password and a TOTP
second factor in one step.

Only SHA-256 of the link's token is stored, so the database cannot be used to activate a
pending invitation. While the invitee enrols, the new TOTP secret travels in the form as a
hidden field, AES-GCM-encrypted under a key derived from SECRET_KEY and bound to this
invitation (see `seal_enrolment`): nothing is kept on the server before the account exists, the
secret is never in a URL or in Flask's session cookie (which is signed, not encrypted, and
outlives the page), and a forged or swapped field does not open.
"""
import base64
import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ... import rls
from ...crypto import DecryptionError, config_sealed
from ...crypto.kdf import KdfParams
from ...extensions import db
from ...models import Institution, Invitation, Role, StaffMember
from ...models.types import utcnow
from ..access.guards import require_role
from ..audit import chain as audit
from ..errors import DomainError
from ..operations import notify
from . import accounts, totp
from .members import (
    MIN_PASSWORD_LENGTH,
    WeakPassword,
    account_by_email,
    add_staff,
    member_by_email,
)

VALID_FOR = timedelta(hours=72)
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100
INVALID_LINK = _l("This activation link cannot be used: it has expired (links last 72 hours), "
                  "it was used already, or it is incomplete. Ask your administrator for a new "
                  "invitation.")


class InvitationRefused(DomainError):
    pass


class InvitationInvalid(DomainError):
    pass


class ActivationRefused(DomainError):
    pass


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def activation_path(token: str) -> str:
    return f"/staff/activate/{token}"


def pending(institution_id: int) -> list[Invitation]:
    """Invitations not used yet and not expired, newest first."""
    return list(db.session.scalars(
        select(Invitation).where(Invitation.institution_id == institution_id,
                                 Invitation.used_at.is_(None),
                                 Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())))


def invite(admin: StaffMember, *, name: str, email: str, roles: list[Role],
           public_url: str) -> tuple[Invitation, str]:
    """Create the invitation and queue its e-mail; returns it with the activation link, which
    exists nowhere else (the admin may hand it over in person)."""
    require_role(admin, Role.ADMIN)
    return _issue(admin.institution_id, admin, name=name, email=email, roles=roles,
                  public_url=public_url)


def invite_by_operator(institution: Institution, *, name: str, email: str, roles: list[Role],
                       public_url: str) -> tuple[Invitation, str]:
    """The platform operator invites a new institution's first administrator: no staff member
    invites (`invited_by_staff_id` stays empty), and the account, a trusted one, still waits
    for a second person's confirmation after activation like any other."""
    return _issue(institution.id, None, name=name, email=email, roles=roles,
                  public_url=public_url)


def _issue(institution_id: int, inviter: StaffMember | None, *, name: str, email: str,
           roles: list[Role], public_url: str) -> tuple[Invitation, str]:
    email, name = email.strip().lower(), name.strip()
    if not name:
        raise InvitationRefused(_l("Please enter the person's name."), field="name")
    if not roles:
        raise InvitationRefused(_l("Choose at least one role."), field="roles")
    existing = member_by_email(institution_id, email)
    if existing is not None:
        message = (_l("%(email)s already has an account.", email=email) if existing.active
                   else _l("%(email)s has a deactivated account: reactivate it from the staff "
                           "list instead.", email=email))
        raise InvitationRefused(message, field="email")
    with rls.scoped(None):  # an account is one for the whole portal, whoever it serves
        elsewhere = account_by_email(email) is not None
    if existing is None and elsewhere:
        # One person, one account: a designated person shared with another institution is
        # given a place here by the platform operator, keeping their password and TOTP.
        raise InvitationRefused(_l("%(email)s already has an account on this portal, for "
                                   "another institution. Ask the platform operator to give "
                                   "that account a place in this institution too.",
                                   email=email), field="email")
    if any(invitation.email == email for invitation in pending(institution_id)):
        raise InvitationRefused(_l("%(email)s already has a pending invitation. Cancel it in "
                                   "the staff list to send a new one.", email=email),
                                field="email")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    invitation = Invitation(
        institution_id=institution_id, email=email, name=name,
        roles=",".join(role.value for role in roles), token_hash=_token_hash(token),
        invited_by_staff_id=inviter.id if inviter is not None else None, created_at=now,
        expires_at=now + VALID_FOR)
    db.session.add(invitation)
    db.session.flush()
    link = public_url.rstrip("/") + activation_path(token)
    notify.invitation(institution_id, email, link)
    audit.record("staff_invited", institution_id=institution_id, actor=inviter,
                 detail={"invitation": invitation.id, "email": email,
                         "roles": [role.value for role in roles],
                         **({} if inviter is not None else {"by": "operator"})})
    return invitation, link


def cancel(admin: StaffMember, invitation_id: int) -> Invitation:
    """End a pending invitation now (its link stops working)."""
    require_role(admin, Role.ADMIN)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.institution_id != admin.institution_id \
            or invitation.used_at is not None or invitation.expires_at <= utcnow():
        raise InvitationRefused(_l("This invitation is no longer pending."))
    invitation.expires_at = utcnow()
    audit.record("invitation_cancelled", institution_id=admin.institution_id, actor=admin,
                 detail={"invitation": invitation.id, "email": invitation.email})
    return invitation


def valid_invitation(token: str) -> Invitation:
    """The pending invitation of this link; one message for unknown, used and expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvitationInvalid(INVALID_LINK)
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.token_hash == _token_hash(token)))
    if invitation is None or invitation.used_at is not None \
            or invitation.expires_at <= utcnow():
        raise InvitationInvalid(INVALID_LINK)
    return invitation


def invited_roles(invitation: Invitation) -> list[Role]:
    return [Role(value) for value in invitation.roles.split(",") if value]


# --- the TOTP secret during enrolment ------------------------------------------------------------

def seal_enrolment(app_secret: str, invitation: Invitation, secret: bytes) -> str:
    """The TOTP secret as an opaque form value that only this server opens, for this
    invitation only."""
    blob = config_sealed.seal_enrolment(app_secret, invitation.id, invitation.token_hash,
                                        secret)
    return base64.urlsafe_b64encode(blob).decode()


def open_enrolment(app_secret: str, invitation: Invitation, sealed: str | None) -> bytes | None:
    """The TOTP secret from the form, or None when the field is missing or was altered."""
    if not sealed or len(sealed) > 200:
        return None
    try:
        blob = base64.urlsafe_b64decode(sealed.encode())
        return config_sealed.open_enrolment(app_secret, invitation.id, invitation.token_hash,
                                            blob)
    except (ValueError, DecryptionError):
        return None


# --- activation ----------------------------------------------------------------------------------

def activate(token: str, *, password: str, totp_secret: bytes, code: str, app_secret: str,
             kdf_params: KdfParams) -> StaffMember:
    """Create the account (key pair, password, enrolled TOTP) and use up the invitation."""
    invitation = valid_invitation(token)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(_l("The password needs at least %(count)d characters.",
                              count=MIN_PASSWORD_LENGTH), field="password")
    step = totp.accepted_step(totp_secret, code, None)
    if step is None:
        raise ActivationRefused(_l("The code is not right. Check that the authenticator app "
                                   "shows this account, and enter its current 6-digit code."),
                                field="code")
    # Claimed with a conditional update, so two concurrent submissions cannot both succeed.
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None),
               Invitation.expires_at > utcnow())
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult, typed as Result
        raise InvitationInvalid(INVALID_LINK)
    institution = db.session.get_one(Institution, invitation.institution_id)
    member = add_staff(institution, email=invitation.email, name=invitation.name,
                       roles=invited_roles(invitation), password=password,
                       kdf_params=kdf_params)
    member.account.totp_secret = totp.seal_secret(app_secret, member.account_id, totp_secret)
    member.account.totp_last_step = step
    waits = member.is_trusted
    if waits:
        # Whoever holds the link (or a copy of the database) is not a reader yet: a second
        # person confirms the account first (see accounts.confirm).
        member.confirmed_at = None
        member.proposed_by_staff_id = invitation.invited_by_staff_id
    db.session.flush()
    audit.record("staff_activated", institution_id=institution.id, actor=member,
                 detail={"invitation": invitation.id, "roles": invitation.roles.split(","),
                         "invited_by": invitation.invited_by_staff_id,
                         "awaiting_confirmation": waits})
    if waits:
        accounts.ask_for_confirmation(member)
    return member

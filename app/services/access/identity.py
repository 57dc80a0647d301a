"""The reporter's identity: hidden by default, shown only for a written reason, audited.

Policy `direct`: the case's handlers hold the identity key; "reveal" records the reason first.
Policy `custodian`: only custodians hold it; a handler asks, a custodian approves (re-sealing
the identity key to that handler) or denies, with a reason.
"""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...crypto import envelope
from ...crypto import request_reasons as sealed
from ...crypto.envelope import recovery_reader, staff_readers
from ...extensions import db
from ...models import (
    Case,
    IdentityPolicy,
    IdentityRequest,
    Institution,
    KeyKind,
    RequestStatus,
    Role,
    StaffMember,
)
from ...models.types import utcnow
from ..audit import chain as audit
from ..errors import DomainError, NotAuthorised
from ..staff.directory import custodians
from ..staff.sign_in import StaffAccess
from . import keys as key_access
from .guards import require_role
from .opened import OpenCase

MIN_REASON = 10
MAX_REASON = 1000


class IdentityRefused(DomainError):
    pass


def written_reason(text: str) -> str:
    """The reason typed for reading an identity, trimmed; IdentityRefused when too short."""
    text = (text or "").strip()
    if len(text) < MIN_REASON:
        raise IdentityRefused(_l("Write why you need the identity (at least %(count)d "
                                 "characters).", count=MIN_REASON), field="reason")
    return text[:MAX_REASON]


def _institution(case: Case) -> Institution:
    return db.session.get_one(Institution, case.institution_id)


def _policy(case: Case) -> IdentityPolicy:
    return _institution(case).identity_policy


def reveal(opened: OpenCase, reason: str) -> dict:
    """The identity, for this request only, after recording who asked and why. Needs the
    identity key besides the case key."""
    access, case = opened.access, opened.case
    if case.identity is None:
        raise IdentityRefused(_l("This report is anonymous: there is no identity to show."))
    reason = written_reason(reason)
    if not key_access.holds_identity_key(case, access.member):
        if _policy(case) is IdentityPolicy.CUSTODIAN:
            raise IdentityRefused(_l("Ask a custodian to approve access to the identity."))
        raise NotAuthorised(_l("You do not hold the key to this reporter's identity."))
    identity_key = key_access.open_case_key(case, access.member, access.private_key,
                                            KeyKind.IDENTITY)
    # The reason may quote the report: in the audit log only encrypted under the case key, so
    # that only those who read the case read it (not the administrator, not a stolen copy).
    case_key = opened.key
    audit.record("identity_revealed", institution_id=case.institution_id, actor=access.member,
                 case=case, detail={audit.SEALED_REASON: audit.seal_reason(case, case_key,
                                                                           reason)})
    return envelope.open_identity(identity_key, case.uuid, case.identity)


def request_access(opened: OpenCase, reason: str) -> IdentityRequest:
    access, case = opened.access, opened.case
    if case.identity is None:
        raise IdentityRefused(_l("This report is anonymous: there is no identity to show."))
    if _policy(case) is not IdentityPolicy.CUSTODIAN or key_access.holds_identity_key(case, access.member):
        raise IdentityRefused(_l("You can already reveal the identity yourself, with a "
                                 "written reason; no custodian's approval is needed."))
    if db.session.scalar(select(IdentityRequest.id).where(
            IdentityRequest.case_id == case.id, IdentityRequest.status == RequestStatus.PENDING,
            IdentityRequest.requested_by_staff_id == access.member.id)):
        raise IdentityRefused(_l("Your request is already waiting for a custodian."))
    reason = written_reason(reason)
    request = IdentityRequest(institution_id=case.institution_id, case_id=case.id,
                              requested_by_staff_id=access.member.id)
    db.session.add(request)
    db.session.flush()
    # The reason may quote the report: only the requester, the custodians who decide and the
    # recovery key can open it; the audit log (which the administrator reads) names the
    # request only.
    key = sealed.new_key()
    deciders = _deciding_custodians(case, access.member)
    request.reader_keys = sealed.seal_request_key(key, request.id, to=staff_readers(
        [access.member, *deciders]) + [recovery_reader(_institution(case))])
    request.reason_sealed = sealed.seal_reason(key, request.id, sealed.REASON, reason)
    audit.record("identity_requested", institution_id=case.institution_id, actor=access.member,
                 case=case, detail={"request": request.id})
    return request


def _deciding_custodians(case: Case, requester: StaffMember) -> list[StaffMember]:
    """The custodians who can decide a request: those holding this case's identity key (so
    never one the reporter excluded)."""
    return [member for member in custodians(case.institution_id)
            if member.id != requester.id and key_access.holds_identity_key(case, member)]


def _request_key(access: StaffAccess, request: IdentityRequest) -> bytes | None:
    return sealed.open_request_key(request.reader_keys, request.id, access.member.id,
                                   access.private_key)


@dataclass
class RequestView:
    """A request as one of its readers sees it; a reason is None when not sealed to them."""

    id: int
    case_id: int
    status: RequestStatus
    created_at: datetime
    reason: str | None
    decision_reason: str | None


def view(access: StaffAccess, request: IdentityRequest) -> RequestView:
    key = _request_key(access, request)
    reason = decision = None
    if key is not None:
        reason = sealed.open_reason(key, request.id, sealed.REASON, request.reason_sealed)
        decision = sealed.open_reason(key, request.id, sealed.DECISION_REASON,
                                      request.decision_reason_sealed)
    return RequestView(request.id, request.case_id, request.status, request.created_at,
                       reason, decision)


def pending_requests(access: StaffAccess) -> list[RequestView]:
    member = access.member
    require_role(member, Role.CUSTODIAN)
    return [view(access, request) for request in db.session.scalars(
        select(IdentityRequest).where(IdentityRequest.institution_id == member.institution_id,
                                      IdentityRequest.status == RequestStatus.PENDING)
        .order_by(IdentityRequest.created_at))]


def decide(access: StaffAccess, request_id: int, approve: bool, reason: str) -> IdentityRequest:
    """A custodian's decision; on approval the identity key is sealed to the requester."""
    require_role(access.member, Role.CUSTODIAN)
    request = db.session.get(IdentityRequest, request_id)
    if request is None or request.institution_id != access.member.institution_id:
        raise NotAuthorised(_l("This request does not exist."))
    if request.status is not RequestStatus.PENDING:
        raise IdentityRefused(_l("This request has already been decided."))
    reason = written_reason(reason)
    key = _request_key(access, request)
    if key is None:
        raise NotAuthorised(_l("You do not hold the key to this reporter's identity."))
    case = db.session.get_one(Case, request.case_id)
    requester = db.session.get_one(StaffMember, request.requested_by_staff_id)
    if approve:
        if not key_access.holds_key(case, requester) or not requester.active:
            raise IdentityRefused(_l("The person who asked no longer has access to this "
                                     "case; deny the request."))
        if not key_access.holds_identity_key(case, access.member):
            raise NotAuthorised(_l("You do not hold the key to this reporter's identity."))
        identity_key = key_access.open_case_key(case, access.member, access.private_key,
                                                KeyKind.IDENTITY)
        key_access.seal_identity_key(case, identity_key, to=staff_readers([requester]))
    request.status = RequestStatus.APPROVED if approve else RequestStatus.DENIED
    request.decided_by_staff_id, request.decided_at = access.member.id, utcnow()
    request.decision_reason_sealed = sealed.seal_reason(key, request.id,
                                                        sealed.DECISION_REASON, reason)
    audit.record(f"identity_request_{request.status.value}", institution_id=case.institution_id,
                 actor=access.member, case=case, detail={"request": request.id})
    return request

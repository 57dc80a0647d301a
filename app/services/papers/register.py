"""The register of reports (Law 361/2022 art. 9 and OG 27/2002): for a period, each report with
its registration number, date received, channel, subject, the reporter or "ANONIM", and how and
when it was resolved.

Only a handler produces it, and only over the cases that handler holds the key of: a case the
reporter excluded them from is not in their register at all. Naming a reporter reads the
identity, so it needs the identity key too (policy `custodian`: a handler without it sees
"identitate nedezvăluită") and a written reason, sealed under each case's key in the audit log
exactly as a reveal is."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ...crypto import envelope
from ...extensions import db
from ...models import Case, Category, Channel, KeyKind, Outcome, Role, Status
from ..access import keys as key_access
from ..access.guards import require_role
from ..access.identity import written_reason
from ..access.opened import open_case
from ..audit import chain as audit
from ..indicators.periods import Period
from ..localtime import local_date
from ..staff.sign_in import StaffAccess

ANONYMOUS = "ANONIM"
UNDISCLOSED = "identitate nedezvăluită"


@dataclass(frozen=True)
class RegisterRow:
    reference: str
    received_on: date
    channel: Channel
    category: Category
    anonymous: bool
    # The name and contact lines; None when anonymous or not readable by this handler.
    reporter: str | None
    status: Status
    outcome: Outcome | None
    forwarded_to: str | None
    resolved_on: date | None


def _identity_text(identity: dict) -> str:
    parts = [identity.get("name", "").strip()]
    parts += [identity.get(key, "").strip() for key in ("email", "phone")]
    return ", ".join(part for part in parts if part) or UNDISCLOSED


def register_rows(access: StaffAccess, period: Period, reason: str) -> list[RegisterRow]:
    """The register over the cases this handler can open, received in `period`, oldest
    first; every identity read is audited with the (sealed) reason, and the register itself
    with its period."""
    require_role(access.member, Role.HANDLER)
    reason = written_reason(reason)
    member = access.member
    cases = db.session.scalars(select(Case).where(
        Case.institution_id == member.institution_id, Case.purged_at.is_(None),
        Case.received_at >= period.start_utc, Case.received_at < period.end_utc)
        .order_by(Case.received_at, Case.id)).all()
    rows = []
    for case in cases:
        if not key_access.holds_key(case, member):
            continue
        opened = open_case(access, case.id)
        rows.append(_row(case, _reporter(opened, reason)))
    audit.record("register_produced", institution_id=member.institution_id, actor=member,
                 detail={"period": period.code, "cases": len(rows)})
    return rows


def _reporter(opened, reason: str) -> str | None:
    case, access = opened.case, opened.access
    if case.identity is None or not key_access.holds_identity_key(case, access.member):
        return None
    identity_key = key_access.open_case_key(case, access.member, access.private_key,
                                            KeyKind.IDENTITY)
    audit.record("identity_read_for_register", institution_id=case.institution_id,
                 actor=access.member, case=case,
                 detail={audit.SEALED_REASON: audit.seal_reason(case, opened.key, reason)})
    return _identity_text(envelope.open_identity(identity_key, case.uuid, case.identity))


def _row(case: Case, reporter: str | None) -> RegisterRow:
    resolved = case.forwarded_at or case.closed_at
    return RegisterRow(
        reference=case.reference, received_on=local_date(case.received_at),
        channel=case.channel, category=case.category, anonymous=case.identity is None,
        reporter=reporter, status=case.status, outcome=case.outcome,
        forwarded_to=case.forwarded_to, resolved_on=local_date(resolved) if resolved else None)


def reporter_cell(row: RegisterRow) -> str:
    if row.anonymous:
        return ANONYMOUS
    return row.reporter or UNDISCLOSED

"""Mail, through the outbox table. No mail carries report content, names or receipts: only
"something happened, sign in to see it". Delivery is `flask jobs run` (see app.services.operations.outbox),
or, in development, right after the request that queued it.

What grants access (an activation link) and a reporter's address are never written in clear:
they travel in `OutboxMail.sealed`, AES-GCM under app_key(Purpose.OUTBOX) — a key derived from the
configuration, not held by the database — and are erased once the mail has gone.
"""

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...crypto import DecryptionError, config_sealed, envelope
from ...extensions import db
from ...models import Case, OutboxMail, Role, StaffMember
from ...models.types import utcnow

MAIL_LANGUAGE = "ro"
SEALED_BODY = "(sealed)"  # what `body` holds while the real one is in `sealed`


def seal_parts(mail: OutboxMail, parts: dict[str, str]) -> None:
    mail.sealed = config_sealed.seal_outbox_parts(mail.id, mail.kind, parts)


def open_parts(mail_id: int, kind: str, sealed: bytes | None) -> dict[str, str]:
    """The sealed recipient and/or body of a mail; raises DecryptionError when the
    configuration's key does not open them (SECRET_KEY changed, or the row was moved)."""
    if sealed is None:
        return {}
    return config_sealed.open_outbox_parts(mail_id, kind, sealed)


def enqueue(institution_id: int, kind: str, recipient: str, subject: str, body: str,
            dedupe_key: str | None = None, case_id: int | None = None, *,
            secret_recipient: bool = False, secret_body: bool = False) -> OutboxMail | None:
    """Queue one mail; with a dedupe key, at most once ever (safe on concurrent runs).
    `secret_recipient` / `secret_body`: that part is stored only sealed (see module doc)."""
    if dedupe_key and db.session.scalar(
            select(OutboxMail.id).where(OutboxMail.dedupe_key == dedupe_key)):
        return None
    sealed = {}
    if secret_recipient:
        sealed["recipient"], recipient = recipient, ""
    if secret_body:
        sealed["body"], body = body, SEALED_BODY
    mail = OutboxMail(institution_id=institution_id, kind=kind, recipient=recipient,
                      subject=subject, body=body, dedupe_key=dedupe_key, case_id=case_id)
    if dedupe_key is None and not sealed:
        # Nothing unique to collide on and no id needed now: inserted with the request's
        # other rows, without a savepoint of its own.
        db.session.add(mail)
        return mail
    try:
        with db.session.begin_nested():
            db.session.add(mail)
            db.session.flush()
            if sealed:
                seal_parts(mail, sealed)
                db.session.flush()
    except IntegrityError:
        return None
    return mail


def _render(kind: str, **context) -> tuple[str, str]:
    with force_locale(MAIL_LANGUAGE):
        # Straight from the Jinja environment: the app's context processors are for pages
        # (they read the request and the signed-in user), and mail is rendered by jobs too.
        template = current_app.jinja_env.get_template(f"mail/{kind}.txt")
        body = template.render(portal=current_app.config["PUBLIC_URL"], **context)
        subject = body.splitlines()[0].removeprefix("Subject: ").strip()
        return subject, body.split("\n", 2)[2] if body.count("\n") >= 2 else body


def new_report(case: Case, readers: list[StaffMember]) -> None:
    """Tell each handler who can read it that a report arrived (reference only)."""
    subject, body = _render("new_report", case=case)
    for member in readers:
        enqueue(case.institution_id, "new_report", member.email, subject, body)


REPORTER_UPDATE = "reporter_update"


def _reporter_address(case: Case, case_key: bytes) -> str | None:
    if case.notify is None:
        return None
    try:
        return envelope.open_notify_address(case_key, case.uuid, case.notify)
    except DecryptionError:
        return None


def _pending_for_case(case_id: int, kind: str) -> bool:
    return db.session.scalar(select(OutboxMail.id).where(
        OutboxMail.case_id == case_id, OutboxMail.kind == kind,
        OutboxMail.sent_at.is_(None)).limit(1)) is not None


def reporter_update(case: Case, case_key: bytes) -> None:
    """For reporters who left an e-mail: "there is an update; log in with your receipt".
    The address is stored only sealed (never in clear), and erased once the mail is sent. One
    pending notice per case is enough: a second update before delivery adds nothing."""
    address = _reporter_address(case, case_key)
    if address is None or _pending_for_case(case.id, REPORTER_UPDATE):
        return
    subject, body = _render(REPORTER_UPDATE, case=case)
    enqueue(case.institution_id, REPORTER_UPDATE, address, subject, body, case_id=case.id,
            secret_recipient=True)


def requeue_reporter_updates(case: Case, case_key: bytes) -> int:
    """Notices parked without an address (by earlier versions, after a failed attempt) get it
    back, sealed, from the encrypted case when someone holding the key opens the case."""
    parked = db.session.scalars(select(OutboxMail).where(
        OutboxMail.case_id == case.id, OutboxMail.kind == REPORTER_UPDATE,
        OutboxMail.sent_at.is_(None), OutboxMail.recipient == "",
        OutboxMail.sealed.is_(None))).all()
    address = _reporter_address(case, case_key) if parked else None
    if address is None:
        return 0
    for mail in parked:
        seal_parts(mail, {"recipient": address})
        mail.next_attempt_at = utcnow()
    return len(parked)


def invitation(institution_id: int, email: str, link: str) -> None:
    """The activation link is a secret: sealed in the outbox, erased once sent."""
    subject, body = _render("invitation", link=link)
    enqueue(institution_id, "invitation", email, subject, body, secret_body=True)


def deadline_notice(case: Case, member: StaffMember, kind: str,
                    dedupe_key: str) -> OutboxMail | None:
    """`deadline_near` or `deadline_overdue`, to one handler, at most once per deadline.
    Returns the queued mail, or None when that key was queued before."""
    subject, body = _render(kind, case=case)
    return enqueue(case.institution_id, kind, member.email, subject, body,
                   dedupe_key=dedupe_key)


def plan_due_notice(institution_id: int, member: StaffMember, day, overdue: bool,
                    dedupe_key: str) -> OutboxMail | None:
    """An integrity-plan measure falls due (or is overdue): the date only, no measure."""
    subject, body = _render("plan_due", day=day, overdue=overdue)
    return enqueue(institution_id, "plan_due", member.email, subject, body,
                   dedupe_key=dedupe_key)


NEW_READER = "new_reader"


def confirmed_handlers(institution_id: int, *, except_id: int | None = None
                       ) -> list[StaffMember]:
    """Active, confirmed handlers: the people who are told when someone new can read."""
    members = db.session.scalars(select(StaffMember).where(
        StaffMember.institution_id == institution_id, StaffMember.active.is_(True),
        StaffMember.confirmed_at.is_not(None)).order_by(StaffMember.id))
    return [member for member in members
            if member.has_role(Role.HANDLER) and member.id != except_id]


def new_reader(member: StaffMember, what: str) -> int:
    """Tell the institution's existing handlers that `member` can now read reports (or
    identities). `what`: "confirmed", "roles" or "recovery". No case is named."""
    roles = [role.value for role in member.role_list]
    subject, body = _render(NEW_READER, member=member, what=what, roles=roles)
    told = 0
    for handler in confirmed_handlers(member.institution_id, except_id=member.id):
        if enqueue(member.institution_id, NEW_READER, handler.email, subject, body):
            told += 1
    return told


CONFIRMATION_NEEDED = "confirmation_needed"


def confirmation_needed(member: StaffMember, confirmers: list[StaffMember]) -> int:
    """Tell the people who may confirm `member` that an account waits for them."""
    subject, body = _render(CONFIRMATION_NEEDED, member=member,
                            roles=[role.value for role in member.role_list])
    told = 0
    for confirmer in confirmers:
        if enqueue(member.institution_id, CONFIRMATION_NEEDED, confirmer.email, subject, body):
            told += 1
    return told


AUDIT_HEAD = "audit_head"


def audit_head(institution_id: int, admins: list[StaffMember], head_hash: bytes, length: int,
               day: str) -> int:
    """The audit chain's head, once a day to each admin, so it can be checked later against
    the database (`flask audit verify --head`)."""
    from ..audit.chain import short_head

    subject, body = _render(AUDIT_HEAD, head=head_hash.hex(), short=short_head(head_hash),
                            length=length, day=day)
    queued = 0
    for admin in admins:
        if enqueue(institution_id, AUDIT_HEAD, admin.email, subject, body,
                   dedupe_key=f"audit-head:{institution_id}:{admin.id}:{day}"):
            queued += 1
    return queued

def reporter_message(case: Case, member: StaffMember) -> None:
    """Tell a handler of the case that its reporter wrote (reference only, no content)."""
    subject, body = _render("reporter_message", case=case)
    enqueue(case.institution_id, "reporter_message", member.email, subject, body)

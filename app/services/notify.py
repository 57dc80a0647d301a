"""Mail, through the outbox table. No mail carries report content, names or receipts: only
"something happened, sign in to see it". Delivery is `flask jobs run` (see app.services.jobs)."""
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..crypto import DecryptionError, envelope
from ..extensions import db
from ..models import Case, OutboxMail, StaffMember
from ..models.types import utcnow

MAIL_LANGUAGE = "ro"


def enqueue(institution_id: int, kind: str, recipient: str, subject: str, body: str,
            dedupe_key: str | None = None, case_id: int | None = None) -> OutboxMail | None:
    """Queue one mail; with a dedupe key, at most once ever (safe on concurrent runs)."""
    if dedupe_key and db.session.scalar(
            select(OutboxMail.id).where(OutboxMail.dedupe_key == dedupe_key)):
        return None
    mail = OutboxMail(institution_id=institution_id, kind=kind, recipient=recipient,
                      subject=subject, body=body, dedupe_key=dedupe_key, case_id=case_id)
    try:
        with db.session.begin_nested():
            db.session.add(mail)
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
        return envelope.decrypt_field(case_key, case.uuid, "notify", case.notify).decode()
    except DecryptionError:
        return None


def reporter_update(case: Case, case_key: bytes) -> None:
    """For reporters who left an e-mail: "there is an update; log in with your receipt".
    The address is in the outbox only until the next delivery attempt (see jobs)."""
    address = _reporter_address(case, case_key)
    if address is None:
        return
    subject, body = _render(REPORTER_UPDATE, case=case)
    enqueue(case.institution_id, REPORTER_UPDATE, address, subject, body, case_id=case.id)


def requeue_reporter_updates(case: Case, case_key: bytes) -> int:
    """Notices whose address was erased after a failed attempt get it back, from the encrypted
    case, when someone holding the key opens the case; they go out at the next run."""
    parked = db.session.scalars(select(OutboxMail).where(
        OutboxMail.case_id == case.id, OutboxMail.kind == REPORTER_UPDATE,
        OutboxMail.sent_at.is_(None), OutboxMail.recipient == "")).all()
    address = _reporter_address(case, case_key) if parked else None
    if address is None:
        return 0
    for mail in parked:
        mail.recipient, mail.next_attempt_at = address, utcnow()
    return len(parked)


def invitation(institution_id: int, email: str, link: str) -> None:
    subject, body = _render("invitation", link=link)
    enqueue(institution_id, "invitation", email, subject, body)


def deadline_notice(case: Case, member: StaffMember, kind: str,
                    dedupe_key: str) -> OutboxMail | None:
    """`deadline_near` or `deadline_overdue`, to one handler, at most once per deadline.
    Returns the queued mail, or None when that key was queued before."""
    subject, body = _render(kind, case=case)
    return enqueue(case.institution_id, kind, member.email, subject, body,
                   dedupe_key=dedupe_key)


def reporter_message(case: Case, member: StaffMember) -> None:
    """Tell a handler of the case that its reporter wrote (reference only, no content)."""
    subject, body = _render("reporter_message", case=case)
    enqueue(case.institution_id, "reporter_message", member.email, subject, body)

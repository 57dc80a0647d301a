"""Receiving a report: encrypt everything the reporter gave, seal the keys, issue a receipt.

The whole submission is one transaction (see transaction.unit_of_work): rows, key wraps and
encrypted files are kept together or not at all.
"""
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ...crypto import aead, envelope, kdf
from ...crypto.envelope import recovery_reader, staff_readers
from ...crypto.kdf import KdfParams
from ...extensions import db
from ...models import (
    Case,
    Category,
    Channel,
    EventKind,
    Institution,
    Platform,
    Receipt,
    StaffMember,
    Status,
)
from ...models.types import utcnow
from ..access import keys as access
from ..audit import chain as audit
from ..casework import deadlines
from ..casework.events import record_event
from ..casework.meetings import MeetingRequest, requested_on_report
from ..errors import DomainError
from ..indicators import usage
from ..kdf import kdf_params as deployment_kdf_params
from ..localtime import local_noon, local_today
from ..operations import notify
from ..staff.directory import handlers
from . import receipts, references
from .evidence import Evidence, store_evidence

# Lengths of what a reporter may type; forms and services share them.
MAX_DESCRIPTION = 20000
MAX_DETAIL = 4000
MAX_NAME = 200
MAX_EMAIL = 254
MAX_PHONE = 40


@dataclass
class Report:
    category: Category
    what_happened: str
    work_context: bool
    language: str
    when_where: str = ""
    persons_involved: str = ""
    how_known: str = ""
    anonymous: bool = True
    name: str = ""
    email: str = ""
    phone: str = ""
    excluded_staff_ids: set[int] = field(default_factory=set)
    channel: Channel = Channel.WEB
    platform: Platform | None = None
    # Manual intake by staff: when it really arrived, who recorded it, and for oral reports
    # the transcript or minutes and whether the reporter checked and signed them.
    received_at: datetime | None = None
    recorded_by: StaffMember | None = None
    transcript: str = ""
    reporter_signed: bool | None = None
    # A recording of the call or meeting attached by staff: only with the reporter's consent.
    recording_consent: bool = False
    # "I would like to meet or talk to the designated person": kept in the sealed content.
    meeting: MeetingRequest | None = None

    def content(self) -> dict:
        return {
            "what_happened": self.what_happened,
            "when_where": self.when_where,
            "persons_involved": self.persons_involved,
            "how_known": self.how_known,
            "transcript": self.transcript,
            "recording_consent": self.recording_consent,
            "meeting": self.meeting.content() if self.meeting else None,
            # Kept inside the encrypted content: who was excluded is itself sensitive.
            "excluded_staff_ids": sorted(self.excluded_staff_ids),
        }

    def identity(self) -> dict | None:
        if self.anonymous:
            return None
        return {"name": self.name, "email": self.email, "phone": self.phone}


@dataclass
class Submitted:
    case: Case
    receipt: str | None  # shown to the reporter once, then forgotten
    # Read before the commit: after it, reading the row again needs the database, and a
    # connection lost at that instant must not cost the reporter the receipt.
    reference: str = ""
    case_id: int = 0
    form_code_bound: bool = False  # the case follows up with its paper form's code
    received_at: datetime | None = None
    acknowledge_due_at: datetime | None = None
    institution_name: str = ""  # for the receipt slip
    institution_id: int = 0


class NobodyCouldRead(DomainError):
    pass


class NotTakingReports(DomainError):
    """The institution is suspended by the platform operator: its web form takes nothing."""


# The external channel of Law 361/2022 (art. 12): the National Integrity Agency.
EXTERNAL_CHANNEL_URL = "https://www.integritate.eu"


def exclusion_choices(institution: Institution) -> list[StaffMember]:
    """The designated people a reporter may exclude: none when there is only one, since
    excluding them would leave nobody able to open the report."""
    eligible = handlers(institution.id)
    return eligible if len(eligible) > 1 else []


def check_exclusions(institution: Institution, excluded_staff_ids: set[int]) -> None:
    """Refuse a report no designated person could open: at least one handler must remain."""
    if not excluded_staff_ids:
        return
    eligible = {member.id for member in handlers(institution.id)}
    if not eligible - set(excluded_staff_ids):
        raise NobodyCouldRead(
            _l("You cannot exclude every designated person: nobody could open your report. "
               "If you distrust all of them, report to the National Integrity Agency (ANI) "
               "instead."), field="excluded")


def manual_received_at(received_on: date, now: datetime | None = None) -> datetime:
    """When a report taken by staff arrived: the day is a day in Romania, never in the
    future; today means now, an earlier day its noon."""
    now = now or utcnow()
    today = local_today(now)
    if received_on > today:
        raise DomainError(_l("The date cannot be in the future."), field="received_on")
    return now if received_on == today else local_noon(received_on)


# Oral reports (Law 361/2022): their transcript or minutes may be checked and signed.
ORAL_CHANNELS = (Channel.PHONE, Channel.IN_PERSON)


def manual_received_on_default() -> date:
    """The day a manual intake form proposes: today, in Romania."""
    return local_today()


def manual_report(*, recorded_by: StaffMember, channel: Channel, platform: Platform | None,
                  received_on: date, anonymous: bool, name: str, email: str, phone: str,
                  reporter_signed: bool, **fields) -> Report:
    """A report staff took by phone, e-mail, post, in person or from social media: it arrived
    on `received_on` (manual_received_at), names a platform only when it came from social
    media, an identity only when not anonymous, a signature of the minutes only when oral."""
    return Report(
        channel=channel, platform=platform if channel is Channel.SOCIAL_MEDIA else None,
        received_at=manual_received_at(received_on), recorded_by=recorded_by,
        anonymous=anonymous, name="" if anonymous else name, email="" if anonymous else email,
        phone="" if anonymous else phone,
        reporter_signed=reporter_signed if channel in ORAL_CHANNELS else None, **fields)


def check_recording_consent(report: Report, evidence: list[Evidence]) -> None:
    """Staff attach a recording of a call or a meeting (audio among the files of a manual
    report) only when the reporter agreed to it (Law 361/2022: oral reports are recorded
    with the reporter's consent, otherwise minuted)."""
    if report.recorded_by is not None and not report.recording_consent and any(
            item.mimetype.startswith("audio/") for item in evidence):
        raise DomainError(_l("A recording of the reporter may be attached only with their "
                             "consent: tick the box once they agreed, or leave the recording "
                             "out and write the minutes."), field="recording_consent")


def _flush_claimed_code() -> None:
    """The same form's code recorded at the same moment by someone else: the unique lookup
    id refuses the second, which gets the message, not an error page."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise receipts.code_in_use() from None


def submit_report(institution: Institution, report: Report, evidence: list[Evidence],
                  kdf_params: KdfParams | None = None, *,
                  issue_receipt: bool = True, form_code: str = "") -> Submitted:
    """One report in: encrypted, sealed to its readers, with a receipt. The receipt's Argon2id
    parameters are the deployment's (config) unless given. A report on a paper form takes
    the code printed on it (`form_code`) as its receipt: the reporter kept that code and
    follows up with it like any web reporter; nothing new is shown."""
    kdf_params = kdf_params or deployment_kdf_params()
    if institution.suspended_at is not None and report.channel is Channel.WEB:
        raise NotTakingReports(_l("%(name)s is not accepting reports on this portal at the "
                                  "moment. Use its other contacts, or the National Integrity "
                                  "Agency.", name=institution.name))
    check_exclusions(institution, report.excluded_staff_ids)
    check_recording_consent(report, evidence)
    claimed = receipts.claim(institution, form_code, kdf_params) if form_code.strip() else None
    case_key = aead.new_key()
    identity = report.identity()
    identity_key = aead.new_key() if identity else None
    now = utcnow()
    received_at = report.received_at or now

    case = Case(
        institution_id=institution.id, channel=report.channel, platform=report.platform,
        category=report.category, work_context=report.work_context,
        anonymous=identity is None, language=report.language, status=Status.RECEIVED,
        received_at=received_at, updated_at=now, reporter_signed=report.reporter_signed,
        recorded_by_staff_id=report.recorded_by.id if report.recorded_by else None,
    )
    deadlines.refresh(case)
    case.uuid = str(uuid.uuid4())
    case.content = envelope.seal_report(case_key, case.uuid, report.content())
    if identity is not None and identity_key is not None:
        case.identity = envelope.seal_identity(identity_key, case.uuid, identity)

    if identity is not None and report.email:
        case.notify = envelope.seal_notify_address(case_key, case.uuid, report.email)
    receipt: str | None = None
    derived: kdf.DerivedSecret | None = None
    if claimed is not None:
        derived = claimed[1]
    elif issue_receipt:
        receipt, derived = receipts.issue(institution, kdf_params)
    # Files are encrypted before the reference is taken: the counter's row lock is held only
    # for the short inserts that follow.
    attachments = [store_evidence(item, case=case, case_key=case_key, author="reporter")
                   for item in evidence]
    # The readers, read before the new case is in the session: their query does not flush
    # it, so sealing to them need not look for wraps the new case cannot have yet.
    readers = access.eligible_handlers(institution, report.excluded_staff_ids)
    case.reference = references.next_reference(institution.id, received_at)
    db.session.add(case)
    db.session.add_all(attachments)
    record_event(case, EventKind.RECEIVED, by=report.recorded_by, at=now,
                 channel=case.channel.value)
    requested_on_report(case, report.meeting)
    if derived is not None:
        db.session.add(Receipt(
            institution_id=institution.id, case=case, lookup_id=derived.public_part,
            kdf_params=kdf_params.encode(),
            wrapped_case_key=envelope.wrap_for_receipt(case_key, case.uuid, derived.key)))
        if claimed is not None:
            _flush_claimed_code()
    # The case key: every handler the reporter did not exclude, and the recovery key. The
    # identity key: those handlers or the custodians (by policy), and the recovery key.
    access.seal_case_key(case, case_key, to=staff_readers(readers) + [recovery_reader(institution)])
    if identity_key is not None:
        identity_holders = access.identity_readers(institution, report.excluded_staff_ids, readers)
        access.seal_identity_key(case, identity_key, to=staff_readers(identity_holders)
                                 + [recovery_reader(institution)])
    db.session.flush()
    if report.recorded_by is not None:
        audit.record("case_recorded", institution_id=institution.id, actor=report.recorded_by,
                     case=case, detail={"channel": case.channel.value})
    if case.channel is Channel.WEB:
        usage.count(institution.id, usage.REPORT_SUBMITTED)
    notify.new_report(case, readers)
    return Submitted(case=case, receipt=receipt, reference=case.reference, case_id=case.id,
                     form_code_bound=claimed is not None, received_at=case.received_at,
                     acknowledge_due_at=case.acknowledge_due_at,
                     institution_name=institution.name, institution_id=institution.id)

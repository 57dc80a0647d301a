"""Words people read for the plaintext enums, in their language."""
import json

from flask_babel import lazy_gettext as _l

from .models import (
    Category,
    Channel,
    DeadlineKind,
    EventKind,
    IdentityPolicy,
    MeasureStatus,
    Outcome,
    Platform,
    Regime,
    RequestStatus,
    Role,
    SessionStage,
    Status,
)

CATEGORY = {
    Category.BRIBERY: _l("Bribery"),
    Category.CONFLICT_OF_INTEREST: _l("Conflict of interest"),
    Category.ABUSE_OF_OFFICE: _l("Abuse of office"),
    Category.PUBLIC_PROCUREMENT: _l("Public procurement"),
    Category.MISUSE_OF_FUNDS: _l("Misuse of public funds or property"),
    Category.FAVOURITISM_IN_HIRING: _l("Favouritism in hiring"),
    Category.INCOMPATIBILITY: _l("Incompatibility"),
    Category.OTHER: _l("Other"),
}

CHANNEL = {
    Channel.WEB: _l("This portal"),
    Channel.EMAIL: _l("E-mail"),
    Channel.PHONE: _l("Phone"),
    Channel.IN_PERSON: _l("In person"),
    Channel.POST: _l("Postal mail"),
    Channel.SOCIAL_MEDIA: _l("Social media"),
    Channel.BOX: _l("Report box"),
    Channel.OTHER: _l("Other"),
}

# What a status means, said plainly to the reporter.
STATUS_FOR_REPORTER = {
    Status.RECEIVED: _l("Received: your report has arrived and waits to be read."),
    Status.ACKNOWLEDGED: _l("Acknowledged: the designated staff have confirmed receipt."),
    Status.ASSESSMENT: _l("Being assessed: the staff are checking what the report is about."),
    Status.INVESTIGATION: _l("Under investigation: the facts are being looked into."),
    Status.CLOSED: _l("Closed: the examination has ended; see the answer below."),
}

STATUS = {
    Status.RECEIVED: _l("Received"),
    Status.ACKNOWLEDGED: _l("Acknowledged"),
    Status.ASSESSMENT: _l("Assessment"),
    Status.INVESTIGATION: _l("Investigation"),
    Status.CLOSED: _l("Closed"),
}

REGIME = {
    Regime.WHISTLEBLOWER: _l("Whistleblower report (Law 361/2022)"),
    Regime.PETITION: _l("Petition (OG 27/2002)"),
    Regime.FORWARDED: _l("Not competent: forward to another authority"),
}

OUTCOME = {
    Outcome.SUBSTANTIATED: _l("Substantiated"),
    Outcome.PARTIALLY_SUBSTANTIATED: _l("Partially substantiated"),
    Outcome.UNSUBSTANTIATED: _l("Unsubstantiated"),
    Outcome.DISMISSED: _l("Dismissed (manifestly unfounded, minor or repeated)"),
    Outcome.FORWARDED: _l("Forwarded to another authority"),
}

PLATFORM = {
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.X: "X (Twitter)",
    Platform.YOUTUBE: "YouTube",
    Platform.TIKTOK: "TikTok",
    Platform.OTHER: _l("Other platform"),
}

DEADLINE = {
    DeadlineKind.ACKNOWLEDGE: _l("Acknowledgement"),
    DeadlineKind.FEEDBACK: _l("Feedback"),
    DeadlineKind.ANSWER: _l("Answer"),
    DeadlineKind.FORWARD: _l("Forwarding"),
}

IDENTITY_POLICY = {
    IdentityPolicy.DIRECT: _l("The handlers of the case, after an explicit, reasoned and "
                              "audited reveal"),
    IdentityPolicy.CUSTODIAN: _l("Only custodians; a handler asks and a custodian approves"),
}

REQUEST_STATUS = {
    RequestStatus.PENDING: _l("Waiting for a custodian"),
    RequestStatus.APPROVED: _l("Approved"),
    RequestStatus.DENIED: _l("Denied"),
}

SESSION_STAGE = {
    SessionStage.PENDING_SECOND_FACTOR: _l("Waiting for the authenticator code"),
    SessionStage.ACTIVE: _l("Signed in"),
}

ROLE = {
    Role.HANDLER: _l("designated person (handler)"),
    Role.COORDINATOR: _l("integrity-plan coordinator"),
    Role.CUSTODIAN: _l("identity custodian"),
    Role.ADMIN: _l("administrator"),
    Role.PLAN_CONTRIBUTOR: _l("integrity-plan contributor"),
}

# StrEnum keys: a lookup by the stored string finds the same label.
EVENT = {
    EventKind.RECEIVED: _l("Received"),
    EventKind.TRIAGED: _l("Triaged"),
    EventKind.ACKNOWLEDGED: _l("Acknowledged"),
    EventKind.STATUS_CHANGED: _l("Status changed"),
    EventKind.CLOSED: _l("Closed"),
    EventKind.FORWARDED: _l("Forwarded"),
    EventKind.EXTENDED: _l("Deadline extended"),
    EventKind.REOPENED: _l("Reopened"),
    EventKind.ASSIGNED: _l("Assigned"),
    EventKind.REPORTER_MESSAGE: _l("Message from the reporter"),
    EventKind.REPORT_REDACTED: _l("Report redacted"),
    EventKind.MESSAGE_REDACTED: _l("Message redacted"),
    EventKind.FILE_DELETED: _l("File deleted"),
    EventKind.MEETING_REQUESTED: _l("The reporter asked for a meeting or a call"),
    EventKind.MINUTES_RECORDED: _l("Minutes of a meeting or call recorded"),
    EventKind.MINUTES_SIGNED: _l("The reporter confirmed the minutes"),
    EventKind.IDENTITY_CONSENT: _l("Consent to pass on the identity"),
}


# --- history and audit entries as sentences --------------------------------------------------

def _enum_label(labels: dict, enum_class, value) -> str:
    try:
        return str(labels[enum_class(value)])
    except (KeyError, ValueError):
        return str(value) if value not in (None, "") else "—"


def _staff_name(staff_id, names: dict | None) -> str:
    if staff_id in (None, ""):
        return "—"
    if names and staff_id in names:
        return names[staff_id]
    from .extensions import db
    from .models import StaffMember

    member = db.session.get(StaffMember, staff_id) if isinstance(staff_id, int) else None
    return member.name if member is not None else f"#{staff_id}"


def _roles(values) -> str:
    shown = []
    for value in values or []:
        try:
            shown.append(str(ROLE[Role(value)]))
        except ValueError:
            shown.append(str(value))
    return ", ".join(shown) or "—"


REPORT_PART = {
    "what_happened": _l("What happened"), "when_where": _l("When and where"),
    "persons_involved": _l("Persons involved"), "how_known": _l("How the reporter knows"),
    "transcript": _l("Transcript or minutes"),
}


def _sentence(action: str, d: dict, names: dict | None) -> str | None:  # noqa: C901, PLR0911, PLR0912
    get = d.get
    if action == "received":
        return _l("The report arrived through %(channel)s.",
                  channel=_enum_label(CHANNEL, Channel, get("channel")))
    if action == "case_recorded":
        return _l("Recorded a report received through %(channel)s.",
                  channel=_enum_label(CHANNEL, Channel, get("channel")))
    if action == "case_opened":
        return _l("Opened the case.")
    if action == "triaged":
        text = str(_l("Triaged the case: %(regime)s; category: %(category)s.",
                      regime=_enum_label(REGIME, Regime, get("regime")),
                      category=_enum_label(CATEGORY, Category, get("category"))))
        if get("examine_anonymous") is True:
            text += " " + str(_l("The anonymous petition is examined anyway."))
        elif get("examine_anonymous") is False:
            text += " " + str(_l("The anonymous petition is not examined."))
        return text
    if action == "acknowledged":
        return _l("Acknowledged receipt to the reporter.")
    if action == "status_changed":
        return _l("Moved the case from “%(old)s” to “%(new)s”.",
                  old=_enum_label(STATUS, Status, get("from")),
                  new=_enum_label(STATUS, Status, get("to")))
    if action == "closed":
        return _l("Closed the case with the outcome “%(outcome)s”.",
                  outcome=_enum_label(OUTCOME, Outcome, get("outcome")))
    if action == "forwarded":
        return _l("Forwarded the case to %(authority)s on %(day)s.",
                  authority=get("authority") or "—", day=get("on") or "—")
    if action == "extended":
        return _l("Extended the answer deadline by %(days)s days.", days=get("days", 15))
    if action == "reopened":
        return _l("Reopened the case (it had been closed as “%(outcome)s”).",
                  outcome=_enum_label(OUTCOME, Outcome, get("previous_outcome")))
    if action == "assigned":
        if get("to") is None:
            return _l("Removed the case's assignment.")
        return _l("Assigned the case to %(name)s.", name=_staff_name(get("to"), names))
    if action == "message_sent":
        if get("files"):
            return _l("Sent a message to the reporter, with files attached: %(count)s.",
                      count=get("files"))
        return _l("Sent a message to the reporter.")
    if action == "reporter_message":
        return _l("The reporter sent a message.")
    if action == "meeting_requested":
        return _l("The reporter asked to meet or talk to the designated person.")
    if action == "minutes_signed":
        return _l("The reporter confirmed (signed) the minutes.")
    if action == "minutes_recorded":
        return _l("Recorded the minutes of a meeting or call with the reporter.")
    if action == "note_added":
        return _l("Added an internal note.")
    if action == "file_downloaded":
        return _l("Downloaded a file of the case.")
    if action == "report_redacted":
        field = get("field") or "—"
        part = REPORT_PART.get(field, field)
        return _l("Deleted irrelevant personal data from the report (%(part)s): %(count)s "
                  "passages replaced by “[redacted]”.", part=part, count=get("occurrences", 0))
    if action == "message_redacted":
        return _l("Deleted irrelevant personal data from a message: %(count)s passages "
                  "replaced by “[redacted]”.", count=get("occurrences", 0))
    if action == "file_deleted":
        return _l("Deleted a file as irrelevant personal data.")
    if action == "access_granted":
        return _l("Gave %(name)s access to the case.", name=_staff_name(get("to"), names))
    if action == "access_granted_by_recovery":
        return _l("Gave %(name)s access to the case with the recovery code.",
                  name=_staff_name(get("to"), names))
    if action == "access_revoked":
        return _l("Removed the access of %(name)s to the case.",
                  name=_staff_name(get("from"), names))
    if action == "identity_revealed":
        return _l("Revealed the reporter's identity.")
    if action == "identity_requested":
        return _l("Asked a custodian for the reporter's identity.")
    if action == "identity_request_approved":
        return _l("Approved a request for the reporter's identity.")
    if action == "identity_request_denied":
        return _l("Denied a request for the reporter's identity.")
    if action == "identity_consent":
        return _l("Recorded the reporter's consent to pass their identity on to the "
                  "authority.")
    if action == "identity_read_for_register":
        return _l("Read the reporter's identity for the register of reports.")
    if action == "register_produced":
        return _l("Produced the register of reports (%(count)s reports).",
                  count=get("cases", 0))
    if action == "forwarding_packet":
        if get("identity_included"):
            return _l("Downloaded the forwarding packet, with the reporter's identity.")
        return _l("Downloaded the forwarding packet, without the reporter's identity.")
    if action == "case_purged":
        return _l("The retention period ended: the case's content was deleted for good.")
    if action == "institution_created":
        return _l("The platform operator set up the institution (%(slug)s).",
                  slug=get("slug") or "—")
    if action == "institution_suspended":
        return _l("The platform operator suspended the institution: its public pages take "
                  "no reports.")
    if action == "institution_resumed":
        return _l("The platform operator resumed the institution: it takes reports again.")
    if action == "sign_in":
        return _l("Signed in.")
    if action == "sign_out":
        return _l("Signed out.")
    if action == "institution_entered":
        return _l("Started working in this institution (from another one they serve).")
    if action == "sign_in_failed":
        return _l("A sign-in to this account failed.")
    if action == "account_locked":
        return _l("The account was locked after repeated failed sign-ins.")
    if action == "totp_enrolled":
        return _l("Set up the authenticator app.")
    if action == "password_changed":
        return _l("Changed their password.")
    if action == "password_reset_by_recovery":
        return _l("Reset the password of %(name)s with the recovery code; cases given back: "
                  "%(count)s.", name=_staff_name(get("staff"), names), count=get("cases", 0))
    if action == "staff_invited":
        return _l("Invited %(email)s as %(roles)s.", email=get("email") or "—",
                  roles=_roles(get("roles")))
    if action == "invitation_cancelled":
        return _l("Cancelled the invitation of %(email)s.", email=get("email") or "—")
    if action == "staff_activated":
        return _l("Activated the account (%(roles)s).", roles=_roles(get("roles")))
    if action == "staff_confirmed":
        return _l("Confirmed the account of %(name)s (%(roles)s).",
                  name=_staff_name(get("staff"), names), roles=_roles(get("roles")))
    if action == "staff_roles_changed":
        return _l("Changed the roles of %(name)s from %(old)s to %(new)s.",
                  name=_staff_name(get("staff"), names), old=_roles(get("old")),
                  new=_roles(get("new")))
    if action == "staff_deactivated":
        return _l("Deactivated the account of %(name)s.", name=_staff_name(get("staff"), names))
    if action == "staff_reactivated":
        return _l("Reactivated the account of %(name)s.", name=_staff_name(get("staff"), names))
    if action == "staff_unlocked":
        return _l("Unlocked the account of %(name)s.", name=_staff_name(get("staff"), names))
    if action == "profile_changed":
        return _l("Changed the public profile (%(fields)s).",
                  fields=", ".join(get("fields") or []) or "—")
    if action == "logo_changed":
        return _l("Removed the logo.") if get("removed") else _l("Changed the logo.")
    if action == "settings_changed":
        return _l("Changed the settings: %(names)s.", names=_changes(d) or "—")
    if action == "stats_export":
        return _l("Exported the statistics (%(format)s, period %(period)s).",
                  format=get("format") or "—", period=get("period") or "—")
    if action == "outreach_created":
        title = get("title") or "—"
        return _l("Recorded a preventive activity: %(title)s.",
                  title=f"{title} ({get('link')})" if get("link") else title)
    if action == "outreach_updated":
        changes = _changes(get("changes") or {})
        text = str(_l("Changed a preventive activity."))
        return f"{text} {changes}" if changes else text
    if action == "outreach_deleted":
        return _l("Deleted a preventive activity: %(title)s.", title=get("title") or "—")
    if action == "risk_added":
        return _l("Added a corruption risk to the register (no. %(id)s).", id=get("id") or "—")
    if action == "risk_updated":
        return _l("Changed corruption risk no. %(id)s: %(fields)s.", id=get("id") or "—",
                  fields=", ".join(get("fields") or []) or "—")
    if action == "self_assessment_saved":
        return _l("Saved the self-assessment for %(year)s (%(count)s answers).",
                  year=get("year") or "—", count=get("count", 0))
    return _plan_sentence(action, get)


def _plan_sentence(action: str, get):
    """The integrity plan's entries (app.services.plan)."""
    code = get("code") or "—"
    if action == "plan_loaded":
        return _l("Loaded the plan “%(title)s” (%(count)s measures).", title=get("title") or "—",
                  count=get("measures", 0))
    if action == "plan_measure_introduced":
        return _l("Added measure %(code)s to the plan.", code=code)
    if action == "plan_measure_revised":
        return _l("Revised measure %(code)s: %(fields)s.", code=code,
                  fields=", ".join(get("fields") or []) or "—")
    if action == "plan_measure_retired":
        return _l("Retired measure %(code)s from the plan.", code=code)
    if action == "plan_measure_assigned":
        return _l("Changed who is responsible for a measure of the plan.")
    if action == "plan_status_set":
        from .services.plan.labels import STATUS as PLAN_STATUS

        status = _enum_label(PLAN_STATUS, MeasureStatus, get("new"))
        return _l("Set a measure's status for %(year)s: %(new)s.", year=get("year") or "—",
                  new=status or "—")
    if action == "plan_progress_added":
        return _l("Recorded progress on a measure of the plan (%(year)s).",
                  year=get("year") or "—")
    if action == "plan_values_set":
        return _l("Typed indicator values of a measure for %(year)s (%(count)s changed).",
                  year=get("year") or "—", count=get("changed", 0))
    if action == "plan_evidence_added":
        return _l("Added verification documents to a measure of the plan.")
    if action == "plan_evidence_downloaded":
        return _l("Downloaded a verification document of the plan.")
    if action == "plan_evidence_visibility":
        return _l("Made a verification document public.") if get("public") else \
            _l("Made a verification document private.")
    if action == "open_data_recorded":
        return _l("Recorded an open-data publication: %(url)s.", url=get("url") or "—")
    return None


def _changes(changes: dict) -> str:
    """{"field": {"old": a, "new": b}} as "field: a → b; ..." (plain values, escaped later)."""
    shown = []
    for name, change in sorted(changes.items()):
        if isinstance(change, dict) and {"old", "new"} <= set(change):
            shown.append(f"{name}: {change['old'] or '—'} → {change['new'] or '—'}")
        else:
            shown.append(str(name))
    return "; ".join(shown)


def _parse(detail) -> dict:
    if isinstance(detail, dict):
        return detail
    if not detail:
        return {}
    try:
        parsed = json.loads(detail)
    except (TypeError, ValueError):
        return {"reason": str(detail)}
    return parsed if isinstance(parsed, dict) else {}


def event_sentence(action: str, detail=None, names: dict | None = None, *,
                   with_reason: bool = True) -> str:
    """A case event or audit entry as a sentence a person reads: never a raw code or JSON.
    A reason a staff member wrote is appended (`with_reason=False` leaves it out)."""
    d = _parse(detail)
    text = _sentence(action, d, names)
    if text is None:
        facts = "; ".join(f"{key}: {value}" for key, value in sorted(d.items())
                          if key != "reason")
        text = _l("Other action (%(code)s).", code=action)
        text = f"{text} {facts}" if facts else str(text)
    text = str(text)
    if with_reason and d.get("reason"):
        text += " " + str(_l("Reason: %(reason)s", reason=d["reason"]))
    return text

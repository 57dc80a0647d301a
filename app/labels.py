"""Words people read for the plaintext enums, in their language."""
from flask_babel import lazy_gettext as _l

from .models import Category, Channel, Outcome, Platform, Regime, Role, Status

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
    "acknowledge": _l("Acknowledgement"),
    "feedback": _l("Feedback"),
    "answer": _l("Answer"),
    "forward": _l("Forwarding"),
}

ROLE = {
    Role.HANDLER: _l("designated person (handler)"),
    Role.COORDINATOR: _l("integrity-plan coordinator"),
    Role.CUSTODIAN: _l("identity custodian"),
    Role.ADMIN: _l("administrator"),
}

EVENT = {
    "received": _l("Received"),
    "triaged": _l("Triaged"),
    "acknowledged": _l("Acknowledged"),
    "status_changed": _l("Status changed"),
    "closed": _l("Closed"),
    "forwarded": _l("Forwarded"),
    "extended": _l("Deadline extended"),
    "reopened": _l("Reopened"),
    "assigned": _l("Assigned"),
    "reporter_message": _l("Message from the reporter"),
}

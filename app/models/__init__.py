"""Models, one module per aggregate. Importing this package registers every table."""
from .attachment import Attachment
from .audit import AuditEntry, AuditHead
from .case import (
    CLOSING_EVENTS,
    Case,
    CaseEvent,
    Category,
    Channel,
    DeadlineKind,
    EventKind,
    Outcome,
    Platform,
    Regime,
    Status,
)
from .counter import RateCounter
from .identity_request import IdentityRequest, RequestStatus
from .indicator_snapshot import IndicatorSnapshot
from .institution import IdentityPolicy, Institution, ReferenceCounter
from .invitation import Invitation
from .keywrap import KeyKind, KeyWrap, Receipt
from .message import FROM_REPORTER, FROM_STAFF, Message
from .note import Note
from .outbox import OutboxMail
from .outreach import OutreachItem, OutreachKind, OutreachKitItem, OutreachPlatform, UsageCounter
from .plan import (
    Change,
    IndicatorKind,
    IndicatorValue,
    MeasureAssignee,
    MeasureStatus,
    MeasureVersion,
    MeasureYear,
    OpenDataPublication,
    Plan,
    PlanEvidence,
    PlanIndicator,
    PlanMeasure,
    PlanObjective,
    ProgressEntry,
)
from .risk import CorruptionRisk, RiskStatus
from .selfassessment import Answer, SelfAssessmentAnswer
from .session import ReporterSession
from .staff import PlatformRole, Role, StaffAccount, StaffMember
from .staff_session import SessionStage, StaffSession

__all__ = [
    "CLOSING_EVENTS", "DeadlineKind", "EventKind", "IdentityPolicy", "RequestStatus",
    "SessionStage", "Attachment", "AuditEntry", "AuditHead", "Case", "CaseEvent", "Category", "Channel",
    "Answer", "CorruptionRisk", "RiskStatus", "SelfAssessmentAnswer",
    "FROM_REPORTER", "FROM_STAFF", "IdentityRequest", "IndicatorSnapshot", "Institution", "Invitation", "KeyKind",
    "KeyWrap", "Message", "Note", "Outcome", "OutboxMail", "OutreachItem", "OutreachKind", "OutreachKitItem",
    "OutreachPlatform", "Platform", "RateCounter", "Receipt", "UsageCounter",
    "ReferenceCounter", "Regime", "ReporterSession", "PlatformRole", "Role", "StaffAccount", "StaffMember", "StaffSession",
    "Status",
    # the integrity plan
    "Change", "IndicatorKind", "IndicatorValue", "MeasureAssignee", "MeasureStatus",
    "MeasureVersion", "MeasureYear", "OpenDataPublication", "Plan", "PlanEvidence",
    "PlanIndicator", "PlanMeasure", "PlanObjective", "ProgressEntry",
]

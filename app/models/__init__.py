"""Models, one module per aggregate. Importing this package registers every table."""
from .attachment import Attachment
from .case import Case, CaseEvent, Category, Channel, Outcome, Platform, Regime, Status
from .institution import Institution, ReferenceCounter
from .keywrap import KeyKind, KeyWrap, Receipt
from .message import FROM_REPORTER, FROM_STAFF, Message
from .session import ReporterSession
from .staff import Role, StaffMember

__all__ = [
    "Attachment", "Case", "CaseEvent", "Category", "Channel", "FROM_REPORTER", "FROM_STAFF",
    "Institution", "KeyKind", "KeyWrap", "Message", "Outcome", "Platform", "Receipt",
    "ReferenceCounter", "Regime", "ReporterSession", "Role", "StaffMember", "Status",
]

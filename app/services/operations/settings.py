"""The institution's settings: identity policy, retention, reminders, mail sender, which
categories the public report form offers, and the identifiers the open data carries (SIRUTA
code, CUI). Every change is audited with its old and new value."""
import enum
import re
from dataclasses import asdict, dataclass, fields

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectChoice

from ...extensions import db
from ...labels import CATEGORY
from ...models import Category, IdentityPolicy, Institution, Role, StaffMember
from ..access.guards import require_role
from ..audit import chain as audit
from ..errors import DomainError

IDENTITY_POLICIES = tuple(IdentityPolicy)
RETENTION_YEARS = (1, 30)
ACKNOWLEDGE_REMINDER_DAYS = (1, 7)  # the acknowledgement is due 7 days after receipt
ANSWER_REMINDER_DAYS = (1, 60)
MAX_MAIL_SENDER = 254
# Deliberately simple: the SMTP server has the last word; this catches typing slips.
_MAIL_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
# The administrative unit's SIRUTA code (INS), and the fiscal code (CUI/CIF), with or without
# the "RO" of VAT registration; the CUI is stored as its digits only, as the open data shows it.
_SIRUTA = re.compile(r"[0-9]{1,6}")
_CUI = re.compile(r"(?:RO)?([0-9]{2,10})")


class SettingsRefused(DomainError):
    pass


@dataclass
class InstitutionSettings:
    identity_policy: IdentityPolicy | str  # a form posts the value
    retention_years: int
    acknowledge_reminder_days: int
    answer_reminder_days: int
    mail_sender: str | None
    enabled_categories: list[Category]
    siruta_code: str | None = None
    cui: str | None = None


def _disabled(institution: Institution) -> set[str]:
    return {value for value in (institution.disabled_categories or "").split(",") if value}


def enabled_categories(institution: Institution) -> list[Category]:
    """Categories the public report form offers, in the fixed list's order."""
    disabled = _disabled(institution)
    return [category for category in Category if category.value not in disabled]


def report_category_choices(institution: Institution) -> list[SelectChoice]:
    """Choices for the public report form: only the enabled categories, so a disabled one is
    neither shown nor accepted when posted."""
    return [SelectChoice(category.value, CATEGORY[category])
            for category in enabled_categories(institution)]


def current(institution: Institution) -> InstitutionSettings:
    return InstitutionSettings(
        identity_policy=institution.identity_policy,
        retention_years=institution.retention_years,
        acknowledge_reminder_days=institution.acknowledge_reminder_days,
        answer_reminder_days=institution.answer_reminder_days,
        mail_sender=institution.mail_sender,
        enabled_categories=enabled_categories(institution),
        siruta_code=institution.siruta_code, cui=institution.cui)


def for_admin(admin: StaffMember) -> tuple[Institution, InstitutionSettings]:
    require_role(admin, Role.ADMIN)
    institution = db.session.get_one(Institution, admin.institution_id)
    return institution, current(institution)


def _in_range(value, bounds: tuple[int, int], field: str) -> int:
    low, high = bounds
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SettingsRefused(_l("Choose a whole number from %(min)d to %(max)d.",
                                 min=low, max=high), field=field)
    return value


def _validated(new: InstitutionSettings, institution: Institution) -> InstitutionSettings:
    if new.identity_policy not in IDENTITY_POLICIES:
        raise SettingsRefused(_l("Choose who may see reporters' identities."),
                              field="identity_policy")
    policy = IdentityPolicy(new.identity_policy)
    if policy is IdentityPolicy.CUSTODIAN \
            and institution.identity_policy is not IdentityPolicy.CUSTODIAN \
            and not _has_active_custodian(institution):
        raise SettingsRefused(_l("No active staff member holds the custodian role yet: invite "
                                 "or appoint a custodian first, or identities of new reports "
                                 "could be read only with the recovery code."),
                              field="identity_policy")
    _in_range(new.retention_years, RETENTION_YEARS, "retention_years")
    _in_range(new.acknowledge_reminder_days, ACKNOWLEDGE_REMINDER_DAYS,
              "acknowledge_reminder_days")
    _in_range(new.answer_reminder_days, ANSWER_REMINDER_DAYS, "answer_reminder_days")
    sender = (new.mail_sender or "").strip() or None
    if sender is not None and (len(sender) > MAX_MAIL_SENDER or not _MAIL_ADDRESS.match(sender)):
        raise SettingsRefused(_l("This does not look like an e-mail address."),
                              field="mail_sender")
    categories = [category for category in Category if category in new.enabled_categories]
    if not categories:
        raise SettingsRefused(_l("Keep at least one category on the report form."),
                              field="categories")
    return InstitutionSettings(policy, new.retention_years,
                               new.acknowledge_reminder_days, new.answer_reminder_days,
                               sender, categories, _siruta(new.siruta_code), _cui(new.cui))


def _siruta(value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and not _SIRUTA.fullmatch(value):
        raise SettingsRefused(_l("The SIRUTA code has digits only, at most 6."),
                              field="siruta_code")
    return value


def _cui(value: str | None) -> str | None:
    value = "".join((value or "").split()).upper() or None
    if value is None:
        return None
    match = _CUI.fullmatch(value)
    if match is None:
        raise SettingsRefused(_l("The CUI has 2 to 10 digits, optionally after the RO prefix."),
                              field="cui")
    return match.group(1)


def _has_active_custodian(institution: Institution) -> bool:
    members = db.session.scalars(select(StaffMember).where(
        StaffMember.institution_id == institution.id, StaffMember.active.is_(True)))
    return any(member.has_role(Role.CUSTODIAN) for member in members)


def _stored(value):
    if isinstance(value, list):
        return [category.value for category in value]
    return value.value if isinstance(value, enum.Enum) else value


def update(admin: StaffMember, new: InstitutionSettings) -> dict[str, dict]:
    """Validate and save every setting at once (or none); returns what changed, as audited."""
    institution, old = for_admin(admin)
    new = _validated(new, institution)
    changes = {}
    for field in fields(InstitutionSettings):
        before, after = _stored(getattr(old, field.name)), _stored(getattr(new, field.name))
        if before != after:
            changes[field.name] = {"old": before, "new": after}
    if not changes:
        return changes
    values = asdict(new)
    enabled = {category.value for category in new.enabled_categories}
    institution.disabled_categories = ",".join(
        category.value for category in Category if category.value not in enabled)
    for name in ("identity_policy", "retention_years", "acknowledge_reminder_days",
                 "answer_reminder_days", "mail_sender", "siruta_code", "cui"):
        setattr(institution, name, values[name])
    audit.record("settings_changed", institution_id=institution.id, actor=admin,
                 detail=changes)
    return changes

"""Role and key checks, in the service layer: views and templates are not the guard."""
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Case, Role, StaffMember
from ..errors import NotAuthorised
from .keys import holds_key


def require_role(member: StaffMember, *roles: Role) -> None:
    if not member.active or not any(member.has_role(role) for role in roles):
        raise NotAuthorised(_l("Your role does not allow this."))


def case_for_handler(member: StaffMember, case_id: int) -> Case:
    """The case, if this handler of the same institution holds its key; NotAuthorised
    otherwise (also for cases that do not exist, so ids cannot be probed)."""
    require_role(member, Role.HANDLER)
    case = db.session.get(Case, case_id)
    if case is None or case.institution_id != member.institution_id \
            or not holds_key(case, member):
        raise NotAuthorised(_l("You do not have access to this case."))
    return case

"""The integrity-plan workspace under /staff/plan: the plan, what is due, each measure's year
(status, progress, values, evidence), the coordinator's edits and the annual evaluation. The
services check every role again (app.services.plan.access); nothing here reads a case."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..models import Role
from ..stats import StaffLink

bp = Blueprint("plan", __name__, url_prefix="/staff/plan")


@bp.record_once
def _add_menu_links(state) -> None:
    links = state.app.extensions.setdefault("staff_links", [])
    links.append(StaffLink(Role.COORDINATOR, "plan.workspace", _l("Integrity plan")))
    links.append(StaffLink(Role.PLAN_CONTRIBUTOR, "plan.workspace", _l("Integrity plan")))


from . import routes  # noqa: E402,F401

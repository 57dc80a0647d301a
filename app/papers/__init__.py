"""Official papers from cases, for handlers: the register of reports and the packet sent with
a case forwarded to the competent authority; and the outreach kit for the coordinator."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..models import Role
from ..stats import StaffLink

bp = Blueprint("papers", __name__, url_prefix="/staff")


@bp.record_once
def _add_menu_links(state) -> None:
    links = state.app.extensions.setdefault("staff_links", [])
    links.append(StaffLink(Role.HANDLER, "papers.register", _l("Register of reports")))
    links.append(StaffLink(Role.COORDINATOR, "papers.outreach_kit_page", _l("Outreach kit")))


from . import routes  # noqa: E402,F401

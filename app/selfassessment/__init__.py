"""The coordinator's self-assessment against the strategy's inventory of preventive measures
(integrity plan, measure 1.8): the year's sheet, and the report as DOCX and PDF."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..models import Role
from ..stats import StaffLink

bp = Blueprint("selfassessment", __name__, url_prefix="/staff")


@bp.record_once
def _add_menu_link(state) -> None:
    state.app.extensions.setdefault("staff_links", []).append(
        StaffLink(Role.COORDINATOR, "selfassessment.sheet", _l("Self-assessment")))


from . import routes  # noqa: E402,F401

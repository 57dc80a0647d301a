"""The coordinator's corruption-risk register (integrity plan, measures 1.5 and 1.6): the
list with its review prompts, the form, and the remediation report ("Anexa C") as a page,
DOCX and PDF. The services (app.services.risks) check the role again."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..models import Role
from ..stats import StaffLink

bp = Blueprint("risks", __name__, url_prefix="/staff")


@bp.record_once
def _add_menu_link(state) -> None:
    state.app.extensions.setdefault("staff_links", []).append(
        StaffLink(Role.COORDINATOR, "risks.register", _l("Risk register")))


from . import routes  # noqa: E402,F401

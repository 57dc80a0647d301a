"""The integrity-plan coordinator's pages: indicators dashboard, exports, annual report and
the outreach log. Aggregates and case metadata only: nothing here can open a case."""
from dataclasses import dataclass

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..models import Role

bp = Blueprint("stats", __name__, url_prefix="/staff")


@dataclass(frozen=True)
class StaffLink:
    """An entry of the back-office menu, shown to holders of `role` (see staff/base.html)."""

    role: Role
    endpoint: str
    label: str


@bp.record_once
def _add_menu_links(state) -> None:
    links = state.app.extensions.setdefault("staff_links", [])
    links.append(StaffLink(Role.COORDINATOR, "stats.dashboard", _l("Indicators")))
    links.append(StaffLink(Role.COORDINATOR, "stats.outreach_list", _l("Outreach log")))


@bp.record_once
def _add_number_filters(state) -> None:
    from .numbers import decimal, file_size, percent

    state.app.add_template_filter(percent, "percent")
    state.app.add_template_filter(decimal, "decimal")
    # Jinja's own filesizeformat writes "1.8 kB" in every language.
    state.app.add_template_filter(file_size, "filesizeformat")


from . import routes  # noqa: E402,F401

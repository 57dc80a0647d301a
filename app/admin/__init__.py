"""The administrator's pages: staff accounts and invitations, the institution's settings, the
audit log; and the activation page an invited person opens from their link."""
from dataclasses import dataclass

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..models import Role

bp = Blueprint("admin", __name__, url_prefix="/staff")


@dataclass(frozen=True)
class StaffLink:
    """An entry of the back-office menu, shown to holders of `role` (see staff/base.html)."""

    role: Role
    endpoint: str
    label: str


@bp.record_once
def _add_menu_link(state) -> None:
    state.app.extensions.setdefault("staff_links", []).append(
        StaffLink(Role.ADMIN, "admin.staff_list", _l("Administration")))
    # Handlers confirm new colleagues where the institution has a single administrator.
    state.app.extensions["staff_links"].append(
        StaffLink(Role.HANDLER, "admin.confirmations", _l("Account confirmations")))


from . import profile, routes  # noqa: E402,F401

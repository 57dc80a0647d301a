"""The citizen's side: information, the report form, the receipt and the follow-up."""
from flask import Blueprint

bp = Blueprint("public", __name__)


@bp.context_processor
def _institution_of_the_page():
    """Every public page names the institution it belongs to (its header, its contacts)."""
    from ..tenancy import current_profile
    profile = current_profile()
    return {"institution": profile, "page_profile": profile}

from . import routes  # noqa: E402,F401

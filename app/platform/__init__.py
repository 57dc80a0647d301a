"""The platform operator's pages under /staff/platform/: the institutions of the deployment
with counts only, creating one (its recovery page shown once), suspending, resuming and
deleting it. Thin views over app/services/operations/platform.py; `@platform_view` admits
the operator alone (institution staff get 403, whatever their roles)."""
from flask import Blueprint

bp = Blueprint("platform", __name__, url_prefix="/staff/platform")

from . import observer, routes  # noqa: E402,F401

"""Open data and transparency for groups of institutions (a county, the whole country), under
/open-data/ so that no path can be taken for an institution's slug: the group pages
(routes), their tables (tables), no sign-in, no JavaScript."""
from flask import Blueprint

bp = Blueprint("opendata", __name__, url_prefix="/open-data")

from . import routes  # noqa: E402,F401

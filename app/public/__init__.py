"""The citizen's side: information, the report form, the receipt and the follow-up."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from . import routes  # noqa: E402,F401

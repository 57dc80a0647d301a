"""Handlers' and custodians' pages: inbox, case, manual intake, identity requests."""
from flask import Blueprint

bp = Blueprint("backoffice", __name__, url_prefix="/staff")

from . import intake, paper, routes  # noqa: E402,F401

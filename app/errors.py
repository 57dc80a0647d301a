"""Error pages that tell a person what to do, in their language, and never echo secrets."""
from flask import Flask, render_template
from flask_wtf.csrf import CSRFError

from .services.errors import NotAuthorised


def register(app: Flask) -> None:
    def page(status: int):
        return render_template("errors/error.html", status=status), status

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return render_template("errors/error.html", status=400, csrf=True), 400

    # The one answer to a refused role or key, wherever a service raises it.
    @app.errorhandler(NotAuthorised)
    def not_authorised(error):
        return page(403)

    for status in (400, 403, 404, 405, 413, 429, 500, 503):
        app.register_error_handler(status, lambda error, status=status: page(status))

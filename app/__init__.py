"""Avertizor: an encrypted integrity-reporting portal for public institutions."""
import io
from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask.wrappers import Request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from config import config_from_environment

from .extensions import babel, csrf, db, limiter, mail, migrate

SUPPORTED_LANGUAGES = ("ro", "en")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


class MemoryUploadRequest(Request):
    """Uploads stay in memory (bounded by MAX_CONTENT_LENGTH) until they are encrypted:
    the default would spool evidence to a temporary file in clear."""

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        return io.BytesIO()


def select_locale() -> str:
    if not has_request_context():
        return "ro"  # commands and jobs speak the institution's language
    chosen = session.get("lang")
    if chosen in SUPPORTED_LANGUAGES:
        return chosen
    return request.accept_languages.best_match(SUPPORTED_LANGUAGES) or "ro"


def create_app(config_class=None) -> Flask:
    config_class = config_class or config_from_environment()
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    config_class.validate(app.config)
    app.request_class = MemoryUploadRequest
    # Room for the form fields beside the largest allowed set of files; the per-file and total
    # limits themselves are checked with a clear message in the evidence service.
    # (Flask's own default is None, i.e. no limit: set it unless the config chose one.)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = app.config["UPLOAD_MAX_TOTAL_BYTES"] + 2**21
    if app.config["PROXY_FIX_HOPS"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_HOPS"],
                                x_proto=app.config["PROXY_FIX_HOPS"])

    db.init_app(app)

    @app.teardown_appcontext
    def release_session(_error=None):
        # A connection the database killed (restart, failover) makes the ROLLBACK of the
        # request's cleanup fail; catch it here so the person still gets the portal's page
        # and the next request a fresh connection.
        try:
            db.session.remove()
        except SQLAlchemyError:
            app.logger.warning("database session cleanup failed; retrying")
            db.session.remove()
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)

    from . import models  # noqa: F401  (registers the tables)
    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .auth.session import keep_session_alive, login_manager, staff_context
    from .backoffice import bp as backoffice_bp
    from .public import bp as public_bp
    from .sessions import AudienceSessionInterface, is_staff_request
    from .stats import bp as stats_bp

    app.session_interface = AudienceSessionInterface()
    login_manager.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(backoffice_bp)
    app.register_blueprint(admin_bp)  # also adds its link to app.extensions["staff_links"]
    app.register_blueprint(stats_bp)  # coordinator: indicators, exports, outreach log (+ links)
    app.context_processor(staff_context)
    app.after_request(keep_session_alive)
    app.context_processor(lambda: {"is_staff_page": is_staff_request(),
                                   "extra_staff_links": app.extensions.get("staff_links", [])})

    from . import errors, i18n

    errors.register(app)
    i18n.register(app)

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    from .cli import register as register_cli

    register_cli(app)

    from .services import jobs

    jobs.init_app(app)  # development: the outbox goes to instance/mail/ after each request
    return app

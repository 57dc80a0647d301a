"""Avertizor: an encrypted integrity-reporting portal for public institutions."""
import io
import os
from pathlib import Path

from flask import Flask, abort, has_request_context, render_template, request, session
from flask.wrappers import Request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from config import config_from_environment, make_private_folder

from . import tenancy
from .crypto import kdf
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


# Form text is parsed in memory up to this size: above the longest text a form accepts
# (20 000 characters, up to 80 kB in UTF-8), so that an over-long text gets its field's
# message rather than the 413 page.
MAX_FORM_MEMORY_SIZE = 4 * 1024 * 1024


def _is_text_document(document) -> bool:
    """A JSON body Flask-WTF can read as a form: an object of texts (or lists of texts)."""
    if not isinstance(document, dict):
        return False
    return all(isinstance(value, str) or (isinstance(value, list) and all(
        isinstance(item, str) for item in value)) for value in document.values())


def _form_texts():
    if request.is_json:
        document = request.get_json(silent=True) or {}
        return [value if isinstance(value, list) else [value] for value in document.values()]
    return request.form.listvalues()


def refuse_unreadable_bodies():
    """Flask-WTF takes a JSON body as the form: refuse one whose values are not texts (numbers,
    objects, a list at the top), which the fields cannot read. And staff text goes to
    VARCHAR columns, where PostgreSQL refuses NUL: refuse it here with a message."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return None
    if request.is_json and not _is_text_document(request.get_json(silent=True)):
        abort(400)
    if request.path.startswith("/staff") and any(
            "\x00" in value for values in _form_texts() for value in values):
        return render_template("errors/control_character.html"), 400
    return None


def create_app(config_class=None) -> Flask:
    # Whatever the portal writes (database, uploads, secrets) is for its own user only.
    os.umask(os.umask(0o077) | 0o077)
    config_class = config_class or config_from_environment()
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    config_class.validate(app.config)
    instance = Path(app.config["INSTANCE_DIR"])
    try:
        make_private_folder(instance)
        uploads = Path(app.config["UPLOAD_FOLDER"])
        if uploads.is_relative_to(instance):  # the default layout (`make run`)
            make_private_folder(uploads)
    except OSError:
        pass  # a read-only install: nothing is written there
    if app.config.get("MAX_FORM_MEMORY_SIZE") == 500_000:  # Flask's default: too small
        app.config["MAX_FORM_MEMORY_SIZE"] = MAX_FORM_MEMORY_SIZE
    app.request_class = MemoryUploadRequest
    app.before_request(refuse_unreadable_bodies)
    # Room for the form fields beside the largest allowed set of files; the per-file and total
    # limits themselves are checked with a clear message in the evidence service.
    # (Flask's own default is None, i.e. no limit: set it unless the config chose one.)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = app.config["UPLOAD_MAX_TOTAL_BYTES"] + 2**21
    tenancy.install(app)  # inside ProxyFix: the institution's prefix follows the proxy's
    if app.config["PROXY_FIX_HOPS"]:
        # Flask's documented way to add WSGI middleware; its types make wsgi_app a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=app.config["PROXY_FIX_HOPS"],
            x_proto=app.config["PROXY_FIX_HOPS"])

    if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        # PostgreSQL's JIT compiled the statistics' wide COUNT(CASE …) statements on every run
        # (their cost passes jit_above_cost) and took longer than the aggregation itself:
        # about 40 % of a country's figures in bench/scale.py. The portal runs without it.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args["options"] = f"{connect_args.get('options', '')} -c jit=off".strip()
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": connect_args}
    db.init_app(app)
    kdf.use_pool(app.config["KDF_THREADS"], app.config["KDF_NICE"])

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
    app.before_request(tenancy.scope_request)  # the request's institutions, at PostgreSQL

    # models registers the tables; rls makes each PostgreSQL transaction carry its scope.
    from . import models, rls  # noqa: F401
    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .auth.session import keep_session_alive, login_manager, staff_context
    from .backoffice import bp as backoffice_bp
    from .opendata import bp as opendata_bp
    from .papers import bp as papers_bp
    from .plan import bp as plan_bp
    from .platform import bp as platform_bp
    from .public import bp as public_bp
    from .risks import bp as risks_bp
    from .selfassessment import bp as selfassessment_bp
    from .sessions import AudienceSessionInterface, is_staff_request
    from .stats import bp as stats_bp

    app.session_interface = AudienceSessionInterface()
    login_manager.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(backoffice_bp)
    app.register_blueprint(admin_bp)  # also adds its link to app.extensions["staff_links"]
    app.register_blueprint(stats_bp)  # coordinator: indicators, exports, outreach log (+ links)
    app.register_blueprint(plan_bp)  # the integrity-plan workspace (+ links)
    app.register_blueprint(risks_bp)  # coordinator: corruption-risk register, Anexa C
    app.register_blueprint(selfassessment_bp)  # coordinator: self-assessment (measure 1.8)
    app.register_blueprint(opendata_bp)  # anyone: group transparency and open data
    app.register_blueprint(platform_bp)  # the platform operator: institutions, counts only
    app.register_blueprint(papers_bp)  # handler: register, forwarding packet; outreach kit
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

    from .services.operations import outbox

    outbox.init_app(app)  # development: the outbox goes to instance/mail/ after each request
    return app

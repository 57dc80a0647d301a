from flask import current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from ..extensions import limiter
from ..form_errors import show_error
from ..models import PlatformRole
from ..services.errors import DomainError
from ..services.kdf import kdf_params
from ..services.staff import places, totp
from ..services.staff import sign_in as staff_auth
from ..services.transaction import unit_of_work
from ..tenancy import current_institution
from . import bp
from .forms import CodeForm, LoginForm, PasswordChangeForm, SignOutForm
from .session import (
    STAFF_COOKIE,
    clear_staff_cookie,
    current_access,
    set_staff_cookie,
    staff_view,
)


def _safe_next(default: str) -> str:
    """Only a path inside the back office: never an open redirect."""
    target = request.args.get("next", "")
    if target.startswith("/staff") and "//" not in target and "\\" not in target:
        return target
    return default


def _home_of(access) -> str:
    """Where a complete sign-in lands: the back office, or a platform account's own pages."""
    if not access.is_platform:
        return url_for("backoffice.home")
    if access.account.platform_role is PlatformRole.OBSERVER:
        return url_for("platform.observer_page")
    return url_for("platform.institutions")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_STAFF_LOGIN"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        cookie = None
        # Failures are committed too: they count towards the lockout and the audit log.
        with unit_of_work():
            try:
                member, private_key = staff_auth.check_password(
                    form.email.data, form.password.data, kdf_params(),
                    device=request.cookies.get(staff_auth.DEVICE_COOKIE),
                    prefer=current_institution())
                cookie = staff_auth.open_session(member, private_key)
            except DomainError as error:
                show_error(form, error)
        if cookie:
            response = redirect(url_for(".second_factor", next=_safe_next("")))
            return set_staff_cookie(response, cookie)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_STAFF_LOGIN"], methods=["POST"])
def second_factor():
    form = CodeForm()
    with unit_of_work():
        access = current_access(allow_pending=True)
        if access is None:
            return redirect(url_for(".login"))
        home = _home_of(access)
        if access.second_factor_done:
            return redirect(_safe_next(home))
        signer = access.place or access.account
        secret = staff_auth.enrolment_secret(signer, current_app.config["SECRET_KEY"])
        enrolling = staff_auth.needs_enrolment(signer)
        done = None
        if form.validate_on_submit():
            try:
                staff_auth.complete_second_factor(access, form.code.data,
                                                  current_app.config["SECRET_KEY"])
                done = staff_auth.new_device_cookie(signer)
            except DomainError as error:
                show_error(form, error)
    if done:
        response = redirect(_safe_next(home))
        # This browser is now a known device of the member's (see staff_auth's lockout).
        response.set_cookie(staff_auth.DEVICE_COOKIE, done, path="/staff/login",
                            max_age=int(staff_auth.DEVICE_LIFETIME.total_seconds()),
                            httponly=True, samesite="Strict",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
        return response
    context = {}
    if enrolling:
        uri = totp.provisioning_uri(secret, access.account.email)
        context = {"secret_text": totp.secret_text(secret),
                   "qr_svg": Markup(totp.qr_svg(uri))}  # noqa: S704 (SVG by segno)  # nosec B704
    status = 400 if form.is_submitted() else 200
    return render_template("auth/code.html", form=form, enrolling=enrolling, **context), status


@bp.route("/logout", methods=["POST"])
def logout():
    SignOutForm().validate_on_submit()  # CSRF is checked globally; nothing else to read
    with unit_of_work():
        access = current_access(allow_pending=True)
        if access is not None:
            staff_auth.record_sign_out(access)
        staff_auth.sign_out(request.cookies.get(STAFF_COOKIE))
    return clear_staff_cookie(redirect(url_for(".login", signed_out=1)))


@bp.route("/institution", methods=["POST"])
@staff_view()
def switch_institution(access):
    """A person serving several institutions chooses the one they work in now."""
    SignOutForm().validate_on_submit()  # CSRF is checked globally; the choice is read below
    with unit_of_work():
        places.switch_to(access, request.form.get("institution", type=int) or 0)
    return redirect(url_for("backoffice.home"))


@bp.route("/password", methods=["GET", "POST"])
@staff_view()
def change_password(access):
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                staff_auth.change_password(access, form.current_password.data,
                                           form.new_password.data, kdf_params())
        except DomainError as error:
            show_error(form, error)
        else:
            return redirect(url_for("backoffice.home", password_changed=1))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status

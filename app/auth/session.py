"""Who is signed in on the staff side, for views: Flask-Login over the split staff session."""
from functools import wraps

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import LoginManager, current_user

from ..extensions import db
from ..models import PlatformRole, Role
from ..services.errors import SessionExpired
from ..services.staff import places
from ..services.staff import sign_in as staff_auth

STAFF_COOKIE = "avertizor_staff"
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = None  # the split session below is the only state


@login_manager.request_loader
def load_staff_from_cookie(_request):
    """A fully signed-in staff member (both factors), or None (also for a platform account,
    which has no place: its pages use platform_view)."""
    access = current_access(allow_pending=False)
    return access.place if access else None


def current_access(allow_pending: bool = False):
    """The StaffAccess of this request (member, private key, session), or None."""
    if "staff_access" not in g:
        try:
            g.staff_access = staff_auth.resume(request.cookies.get(STAFF_COOKIE))
        except SessionExpired:
            g.staff_access = None
    access = g.staff_access
    if access is None or (not allow_pending and not access.second_factor_done):
        return None
    return access


def keep_session_alive(response):
    """Views that only read (inbox, case list) have nothing to commit, but the staff session's
    last_seen_at moved: save it, or an active person would be signed out after 30 minutes."""
    if g.get("staff_access") is not None and response.status_code < 400:
        db.session.commit()
    return response


def set_staff_cookie(response, value: str):
    response.set_cookie(STAFF_COOKIE, value, path="/staff", httponly=True, samesite="Strict",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def clear_staff_cookie(response):
    response.delete_cookie(STAFF_COOKIE, path="/staff")
    return response


def staff_view(*roles: Role):
    """The one way into a staff page: signed in with both factors and holding one of `roles`
    (any role when none given), with the request's StaffAccess passed to the view as its
    first argument. Services check again: this only spares a round trip for the obvious cases."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            access = current_access()
            if access is None:
                return redirect(url_for("auth.login", next=request.path))
            if access.place is None:  # a platform account holds no institution's roles
                abort(403)
            if roles and not any(access.member.has_role(role) for role in roles):
                abort(403)
            return view(access, *args, **kwargs)
        return wrapped
    return decorator


def platform_view(*roles: PlatformRole):
    """The one way into a platform page (/staff/platform/…): signed in with both factors as
    a platform account holding one of `roles`. Institution staff get 403, whatever their
    roles there; the services check the role again."""
    if not roles:
        raise TypeError("platform_view needs the platform roles it admits")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            access = current_access()
            if access is None:
                return redirect(url_for("auth.login", next=request.path))
            if access.place is not None or access.account.platform_role not in roles:
                abort(403)
            return view(access, *args, **kwargs)
        return wrapped
    return decorator


def staff_context():
    signed_in = current_user is not None and current_user.is_authenticated
    access = current_access() if signed_in else None
    platform = current_access() if not signed_in and request.path.startswith("/staff") \
        else None
    return {"staff_member": current_user if signed_in else None,
            "staff_places": places.places(access) if access is not None else [],
            "platform_account": platform.account if platform is not None
            and platform.is_platform else None,
            "Role": Role}

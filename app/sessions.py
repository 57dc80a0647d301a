"""The reporter's and the staff's surfaces share no session cookie: Flask's signed session
(language and CSRF token) uses one cookie for the public pages and another, scoped to
/staff, for the back office."""
from flask import request
from flask.sessions import SecureCookieSessionInterface

STAFF_PREFIX = "/staff"


def is_staff_request() -> bool:
    return request.path == STAFF_PREFIX or request.path.startswith(STAFF_PREFIX + "/")


class AudienceSessionInterface(SecureCookieSessionInterface):
    salt = "avertizor-session"

    def get_cookie_name(self, app) -> str:
        name = super().get_cookie_name(app)
        return f"{name}_backoffice" if is_staff_request() else name

    def get_cookie_path(self, app) -> str:
        return STAFF_PREFIX if is_staff_request() else "/"

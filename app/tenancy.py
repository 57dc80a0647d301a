"""The institution of a request, decided here and only here.

- Public pages: the first path segment names the institution (`/baltati/report`), or the
  request's host is the institution's own host name (`canal.baltati.ro/report`). A deployment
  with exactly one institution also serves it at `/`, as before it had several.
- Staff pages (`/staff/…`): the institution of the signed-in person's current place
  (StaffAccess.member); a person serving several institutions switches between them.

The path prefix is moved from PATH_INFO to SCRIPT_NAME by `InstitutionPath` before Flask
routes the request, so every public view and template is written once, for `/report`, and
`url_for` gives `/baltati/report` under that institution's prefix by itself.
"""
import re
from dataclasses import dataclass, fields

from flask import Flask, abort, current_app, g, has_request_context, redirect, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from . import rls
from .extensions import db
from .models import Institution, PlatformRole

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
ENVIRON_KEY = "avertizor.institution_slug"


class InstitutionPath:
    """WSGI middleware: `/<slug>/rest` is served as `/rest` with `/<slug>` as the script root,
    when `<slug>` is not one of the application's own first path segments. Staff pages have a
    single address: `/<slug>/staff/…` redirects to `/staff/…`."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._own_segments: frozenset[str] | None = None

    def own_segments(self) -> frozenset[str]:
        if self._own_segments is None:
            segments = set()
            for rule in self.app.url_map.iter_rules():
                first = rule.rule.lstrip("/").split("/", 1)[0]
                if first and "<" not in first:
                    segments.add(first.split(".", 1)[0])
            self._own_segments = frozenset(segments)
        return self._own_segments

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        first, _, rest = path.lstrip("/").partition("/")
        if first and SLUG.match(first) and first not in self.own_segments():
            rest = "/" + rest
            if rest.startswith("/static/"):  # the portal's one set of files, served as is
                environ["PATH_INFO"] = rest
                return self.wsgi_app(environ, start_response)
            if rest == "/staff" or rest.startswith("/staff/"):
                script = environ.get("SCRIPT_NAME", "")
                query = environ.get("QUERY_STRING")
                target = script + rest + ("?" + query if query else "")
                return Response(status=302, headers={"Location": target})(environ,
                                                                          start_response)
            environ[ENVIRON_KEY] = first
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + "/" + first
            environ["PATH_INFO"] = rest
        return self.wsgi_app(environ, start_response)


def install(app: Flask) -> None:
    # Flask's documented way to add WSGI middleware; its types make wsgi_app a method.
    app.wsgi_app = InstitutionPath(app, app.wsgi_app)  # type: ignore[method-assign]


# Staff pages that find a person before any institution is known, by what only that person
# holds: the e-mail and password, or the invitation's token.
BEFORE_ANY_INSTITUTION = frozenset({"auth.login", "admin.activate"})
# The platform operator's pages (app/platform/) list and remove institutions, reading nothing
# but counts of their rows (app/services/operations/platform.py), and the observer's page reads
# a group's metadata and shows suppressed figures (services/indicators/observer.py):
# unrestricted, for a signed-in operator or observer only. A platform account's own sign-in steps touch only its account and
# session, which no institution's scope shows (it has no place): unrestricted too.
PLATFORM_BLUEPRINT = "platform"
PLATFORM_SIGN_IN_STEPS = frozenset({"auth.login", "auth.second_factor", "auth.logout"})


# Public pages about a group of institutions (open data of a county or the country): they
# read the metadata of every institution of the group and publish only suppressed figures.
GROUP_BLUEPRINTS = frozenset({"opendata"})


def scope_request() -> None:
    """The second wall (app/rls.py, PostgreSQL): from here on, this request's queries see
    only its institutions' rows, whatever filter a query forgot. Public pages: the page's
    institution. Staff pages: the institutions the signed-in person serves (their inbox spans
    them); the session itself is found first, by its token, before any institution is known."""
    if request.endpoint == "static":
        return  # the portal's files read no table: no query to decide whose they are
    if request.path == "/staff" or request.path.startswith("/staff/"):
        from .auth.session import current_access  # the staff side builds on this module
        # No flush here: the session's pending last_seen_at must not take SQLite's write lock
        # before a view's rate limit, which counts on a connection of its own, has run.
        with rls.scoped(None), db.session.no_autoflush:
            access = current_access(allow_pending=True)
            served = ([member.institution_id for member in access.account.memberships
                       if member.active] if access is not None else [])
        if access is None and request.endpoint in BEFORE_ANY_INSTITUTION:
            rls.unrestricted()
        elif access is not None and access.is_platform:
            if request.endpoint in PLATFORM_SIGN_IN_STEPS or (
                    access.second_factor_done
                    and access.account.platform_role in (PlatformRole.OPERATOR,
                                                         PlatformRole.OBSERVER)
                    and request.blueprint == PLATFORM_BLUEPRINT):
                rls.unrestricted()
            else:
                # A platform account serves no institution; its session row, which no
                # institution's scope shows, is brought up to date first (no rate-limited
                # view is reached this way: its sign-in steps are unrestricted above).
                with rls.scoped(None):
                    db.session.flush()
                rls.limit_to([])
        else:
            rls.limit_to(served)
        return
    if request.blueprint in GROUP_BLUEPRINTS:
        rls.unrestricted()  # suppressed figures of many institutions, from metadata only
        return
    institution = current_institution()
    rls.limit_to([institution.id] if institution is not None else [])


def _host() -> str:
    return request.host.split(":", 1)[0].lower()


def _resolve() -> Institution | None:
    slug = request.environ.get(ENVIRON_KEY)
    if slug is not None:
        return db.session.scalar(select(Institution).where(Institution.slug == slug))
    by_host = db.session.scalar(select(Institution).where(Institution.host == _host()))
    if by_host is not None:
        return by_host
    return only_institution()


def only_institution() -> Institution | None:
    """The institution of a deployment that serves exactly one, else None."""
    first_two = db.session.scalars(select(Institution).order_by(Institution.id).limit(2)).all()
    return first_two[0] if len(first_two) == 1 else None


@dataclass(frozen=True)
class PublicProfile:
    """What the public pages show of their institution, read when the request resolved it: a
    page rendered after the commit (the receipt) needs no database to name it."""

    id: int
    name: str
    slug: str
    county: str | None
    siruta_code: str | None
    cui: str | None
    address: str | None
    phone: str | None
    office_hours: str | None
    public_email: str | None
    dpo_contact: str | None
    retention_years: int
    suspended: bool
    has_logo: bool
    base: str  # where its public pages start (public_base)

    @classmethod
    def of(cls, institution: Institution) -> "PublicProfile":
        values = {field.name: getattr(institution, field.name) for field in fields(cls)
                  if field.name not in ("suspended", "base", "has_logo")}
        return cls(**values, suspended=institution.suspended_at is not None,
                   has_logo=institution.logo is not None,
                   base=public_base(institution))


def current_profile() -> PublicProfile | None:
    """The page's institution as resolved at the start of the request (scope_request), or
    None. It never asks the database itself: an error page rendered because the database is
    gone must not fail again on it."""
    return g.get("public_profile")


def current_institution() -> Institution | None:
    """The institution whose public pages this request is on, or None: on the portal's own
    pages of a deployment with several institutions, or under a prefix naming none."""
    if "public_institution" not in g:
        g.public_institution = _resolve()
        if g.public_institution is not None:
            g.public_profile = PublicProfile.of(g.public_institution)
    return g.public_institution


def under_unknown_prefix() -> bool:
    return request.environ.get(ENVIRON_KEY) is not None and current_institution() is None


def page_institution() -> Institution | None:
    """For pages that also make sense before any institution exists (home, privacy): the
    institution, None on a deployment with none yet, the portal home when there are several."""
    institution = current_institution()
    if under_unknown_prefix():
        abort(404)
    if institution is None and is_shared_deployment():
        abort(redirect(url_for("public.index")))
    return institution


def public_institution() -> Institution:
    """For views that belong to one institution (report, follow-up, transparency): it, or the
    portal home where the visitor chooses theirs."""
    institution = current_institution()
    if institution is None:
        if under_unknown_prefix():
            abort(404)
        if db.session.scalar(select(func.count(Institution.id))) == 0:
            abort(503)
        abort(redirect(url_for("public.index")))
    return institution


def is_shared_deployment() -> bool:
    return (db.session.scalar(select(func.count(Institution.id))) or 0) > 1


def public_base(institution: Institution) -> str:
    """Where the institution's public pages start, for links made outside its own pages
    (receipt slips, paper forms, mail, QR codes): its own host, else the portal's address with
    its prefix (none for the only institution of a deployment, as before)."""
    if institution.host:
        return "https://" + institution.host
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return base + "/" + institution.slug if is_shared_deployment() else base


def _relative(path: str) -> str:
    root = request.script_root if has_request_context() else ""
    return path[len(root):] if root and path.startswith(root) else path


def public_url(institution: Institution, endpoint: str, **values) -> str:
    """An absolute address of one of the institution's public pages."""
    return public_base(institution) + _relative(url_for(endpoint, **values))


def public_link(institution_id: int, endpoint: str, **values) -> str:
    """The same, for a page that may render after its commit (the receipt): on the
    institution's own public pages it needs no database."""
    profile = current_profile() if has_request_context() and "public_profile" in g else None
    if profile is not None and profile.id == institution_id:
        return profile.base + _relative(url_for(endpoint, **values))
    return public_url(db.session.get_one(Institution, institution_id), endpoint, **values)

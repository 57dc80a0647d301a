"""What the platform operator sees of the institutions, and what they may do to them.

The operator creates, suspends and removes institutions (the rules are in institutions,
onboarding and offboarding; this module is the operator's door to them) and sees of each one
its public profile (name, county, SIRUTA code, CUI, slug, state) and counts only: its staff
places and the cases it received this year. Never a case's content, a reporter's identity,
or a staff member's name or e-mail: the queries below select nothing else.

Every function takes the request's StaffAccess and refuses anyone but a platform operator
(NotAuthorised), whatever page called it.
"""
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ... import ratelimit
from ...extensions import db
from ...models import Case, Institution, PlatformRole, StaffMember
from ...models.types import utcnow
from ..errors import NotAuthorised
from . import institutions, offboarding, onboarding

MAX_QUERY = 200
# A creation form is good for one institution: sent again (the browser's "resend" on the
# confirmation page, a double click) within this time, it creates nothing.
FORM_ONCE_WITHIN = 24 * 3600


def require_operator(access) -> None:
    """The platform operator, signed in on a platform session (no institution place)."""
    if access is None or access.place is not None \
            or access.account.platform_role is not PlatformRole.OPERATOR:
        raise NotAuthorised(_l("Only the platform operator may do this."))


@dataclass(frozen=True)
class InstitutionRow:
    id: int
    name: str
    slug: str
    county: str | None
    siruta_code: str | None
    cui: str | None
    suspended: bool
    staff_places: int
    cases_this_year: int


def _start_of_year() -> datetime:
    return datetime(utcnow().year, 1, 1, tzinfo=UTC)


def overview(access, *, query: str = "", county: str = "", slug: str | None = None
             ) -> list[InstitutionRow]:
    """The institutions whose name, county or slug contains `query`, in `county` if given
    (or the one institution `slug`)."""
    require_operator(access)
    places = (select(StaffMember.institution_id, func.count(StaffMember.id).label("n"))
              .where(StaffMember.active.is_(True)).group_by(StaffMember.institution_id)
              .subquery())
    cases = (select(Case.institution_id, func.count(Case.id).label("n"))
             .where(Case.received_at >= _start_of_year()).group_by(Case.institution_id)
             .subquery())
    statement = (
        select(Institution.id, Institution.name, Institution.slug, Institution.county,
               Institution.siruta_code, Institution.cui, Institution.suspended_at,
               func.coalesce(places.c.n, 0), func.coalesce(cases.c.n, 0))
        .outerjoin(places, places.c.institution_id == Institution.id)
        .outerjoin(cases, cases.c.institution_id == Institution.id)
        .order_by(func.lower(Institution.name), Institution.id))
    words = " ".join((query or "").split())[:MAX_QUERY].lower()
    if words:
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(
            func.lower(Institution.name).like(pattern, escape="\\"),
            func.lower(func.coalesce(Institution.county, "")).like(pattern, escape="\\"),
            Institution.slug.like(pattern, escape="\\")))
    if county:
        statement = statement.where(Institution.county == county)
    if slug is not None:
        statement = statement.where(Institution.slug == slug)
    return [InstitutionRow(id=row[0], name=row[1], slug=row[2], county=row[3],
                           siruta_code=row[4], cui=row[5], suspended=row[6] is not None,
                           staff_places=row[7], cases_this_year=row[8])
            for row in db.session.execute(statement)]


def counties(access) -> list[str]:
    require_operator(access)
    return list(db.session.scalars(
        select(Institution.county).where(Institution.county.is_not(None))
        .distinct().order_by(Institution.county)))


def institution(access, slug: str) -> Institution:
    require_operator(access)
    return institutions.by_slug(slug)


def row_of(access, institution_: Institution) -> InstitutionRow:
    return overview(access, slug=institution_.slug)[0]


def create(access, *, public_url: str, admin_email: str, form_id: str = "",
           **fields: str | None) -> tuple[onboarding.Onboarded, bytes]:
    """A new institution with its administrator invited, and its recovery page (PDF): the
    only place its recovery code is ever written. The caller shows the page once.
    `form_id`: the random id of the form it came from; a form sent twice creates once (the
    mark is taken in the caller's transaction, so a refused form can be corrected and sent)."""
    require_operator(access)
    if form_id and ratelimit.counter_hit(
            "platform-create|" + ratelimit.keyed_digest("platform-create", form_id),
            FORM_ONCE_WITHIN, in_transaction=True) > 1:
        raise institutions.InstitutionRefused(_l(
            "This form was sent already and its institution created. Find it in the list; "
            "to create another institution, open a new form."))
    made = onboarding.onboard(admin_email=admin_email, public_url=public_url,
                              **fields)  # type: ignore[arg-type]
    return made, onboarding.recovery_pdf(made)


def suspend(access, slug: str) -> Institution:
    require_operator(access)
    return institutions.suspend(institutions.by_slug(slug))


def resume(access, slug: str) -> Institution:
    require_operator(access)
    return institutions.resume(institutions.by_slug(slug))


def delete(access, slug: str, *, confirm_slug: str) -> offboarding.Removal:
    """The caller commits, then calls offboarding.check_removed(removal)."""
    require_operator(access)
    return offboarding.delete_institution(institutions.by_slug(slug),
                                          confirm_slug=(confirm_slug or "").strip())

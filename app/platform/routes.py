import base64
import secrets

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.session import platform_view
from ..form_errors import show_error
from ..models import PlatformRole
from ..services.errors import DomainError
from ..services.operations import offboarding
from ..services.operations import platform as operator
from ..services.operations.institutions import NoSuchInstitution
from ..services.transaction import unit_of_work
from . import bp
from .forms import ConfirmForm, DeleteForm, NewInstitutionForm, SearchForm

OPERATOR = PlatformRole.OPERATOR
PROFILE_FIELDS = ("name", "county", "siruta_code", "cui", "address", "phone", "office_hours",
                  "public_email", "dpo_contact")


def _no_store(response):
    """A page with a recovery page in it is kept by no cache and no history."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _found(access, slug):
    try:
        return operator.institution(access, slug)
    except NoSuchInstitution:
        abort(404)


@bp.route("/")
@platform_view(OPERATOR)
def institutions(access):
    form = SearchForm(request.args)
    form.validate()
    query = form.q.data or "" if not form.q.errors else ""
    county = form.county.data or "" if not form.county.errors else ""
    rows = operator.overview(access, query=query, county=county)
    return render_template("platform/institutions.html", form=form, rows=rows,
                           counties=operator.counties(access), query=query, county=county,
                           confirm=ConfirmForm())


@bp.route("/institutions/new", methods=["GET", "POST"])
@platform_view(OPERATOR)
def new_institution(access):
    form = NewInstitutionForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                made, pdf = operator.create(
                    access, public_url=current_app.config["PUBLIC_URL"],
                    admin_email=form.admin_email.data, form_id=form.form_id.data or "",
                    **{name: getattr(form, name).data for name in PROFILE_FIELDS})
                slug, name = made.institution.slug, made.institution.name
        except DomainError as error:
            show_error(form, error)
        else:
            # The recovery code exists only in this answer: the page offers its PDF once, as
            # a download link carrying the file itself; nothing is kept on the server.
            return _no_store(current_app.make_response(render_template(
                "platform/created.html", name=name, slug=slug,
                invited=made.invitation.email if made.invitation else None,
                pdf_data=base64.b64encode(pdf).decode("ascii"))))
    if not form.form_id.data:
        form.form_id.data = secrets.token_urlsafe(16)
    status = 400 if form.is_submitted() else 200
    return render_template("platform/new.html", form=form), status


@bp.route("/institutions/<slug>")
@platform_view(OPERATOR)
def institution(access, slug):
    found = _found(access, slug)
    row = operator.row_of(access, found)
    return render_template("platform/institution.html", institution=found, row=row,
                           confirm=ConfirmForm(), delete_form=DeleteForm())


@bp.route("/institutions/<slug>/suspend", methods=["POST"])
@platform_view(OPERATOR)
def suspend(access, slug):
    return _state_change(access, slug, operator.suspend,
                         _("%(name)s is suspended: its report form takes no reports."))


@bp.route("/institutions/<slug>/resume", methods=["POST"])
@platform_view(OPERATOR)
def resume(access, slug):
    return _state_change(access, slug, operator.resume,
                         _("%(name)s takes reports again."))


def _state_change(access, slug, change, done: str):
    _found(access, slug)
    if ConfirmForm().validate_on_submit():
        try:
            with unit_of_work():
                name = change(access, slug).name
        except DomainError as error:
            flash(str(error.message))
        else:
            flash(done % {"name": name})
    return redirect(url_for(".institution", slug=slug))


@bp.route("/institutions/<slug>/delete", methods=["POST"])
@platform_view(OPERATOR)
def delete(access, slug):
    found = _found(access, slug)
    form = DeleteForm()
    if form.validate_on_submit():
        name = found.name
        try:
            with unit_of_work():
                removal = operator.delete(access, slug, confirm_slug=form.confirm_slug.data)
        except DomainError as error:
            show_error(form, error)
        else:
            check = offboarding.check_removed(removal)
            return render_template("platform/deleted.html", name=name, removal=removal,
                                   check=check)
    row = operator.row_of(access, found)
    return render_template("platform/institution.html", institution=found, row=row,
                           confirm=ConfirmForm(), delete_form=form), 400

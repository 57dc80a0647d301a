"""The administrator's page for the institution's public profile: contacts and logo."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from ..auth.session import staff_view
from ..extensions import db
from ..form_errors import show_error
from ..models import Institution, Role
from ..services.errors import DomainError
from ..services.operations import profile
from ..services.transaction import unit_of_work
from . import bp
from .forms import ProfileForm


@bp.route("/admin/profile", methods=["GET", "POST"])
@staff_view(Role.ADMIN)
def public_profile(access):
    institution = db.session.get_one(Institution, access.member.institution_id)
    form = ProfileForm()
    if request.method == "GET":
        for name, value in vars(profile.contacts_of(institution)).items():
            getattr(form, name).data = value or ""
    if form.validate_on_submit():
        upload = request.files.get("logo")
        data = upload.read(profile.MAX_LOGO_BYTES + 1) if upload and upload.filename else None
        try:
            with unit_of_work():
                changed = profile.update_contacts(access.member, profile.PublicContacts(
                    **{name: getattr(form, name).data for name in profile.LIMITS}))
                if data or form.remove_logo.data:
                    profile.set_logo(access.member, data)
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_l("The public profile is saved.") if changed or data or form.remove_logo.data
                  else _l("Nothing was changed."))
            return redirect(url_for(".public_profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/profile.html", form=form, institution=institution), status

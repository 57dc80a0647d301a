"""Printing paper report forms for the box and for post (services.intake.paper_forms)."""
from flask import Response, render_template

from ..auth.session import staff_view
from ..downloads import attachment_header
from ..form_errors import show_error
from ..models import Role
from ..services.errors import DomainError
from ..services.intake import paper_forms
from ..services.operations.institutions import institution_of
from ..services.transaction import unit_of_work
from . import bp
from .forms import PaperFormsForm


@bp.route("/paper-forms", methods=["GET", "POST"])
@staff_view(Role.HANDLER)
def paper_forms_page(access):
    form = PaperFormsForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                body = paper_forms.print_forms(access.member, institution_of(access.member),
                                               form.count.data)
        except DomainError as error:
            show_error(form, error)
        else:
            response = Response(body, mimetype="application/pdf")
            response.headers["Content-Disposition"] = attachment_header(
                f"formulare-sesizare-{form.count.data}.pdf")
            response.headers["Cache-Control"] = "no-store"
            return response
    status = 400 if form.is_submitted() else 200
    return render_template("backoffice/paper_forms.html", form=form,
                           max_forms=paper_forms.MAX_FORMS), status

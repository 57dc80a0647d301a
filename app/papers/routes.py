"""Views of the official papers: parse the form, call one service, send the page or file.
Roles and keys are checked in the services."""
from collections.abc import Iterable

from flask import Response, current_app, render_template, request

from ..auth.session import staff_view
from ..documents import outreach_kit
from ..documents import register as register_document
from ..documents.forwarding import forwarding_document
from ..documents.to_docx import render_docx
from ..documents.to_pdf import render_pdf
from ..downloads import attachment_header
from ..form_errors import show_error
from ..models import Role
from ..services.access.opened import open_case
from ..services.errors import DomainError, EvidenceUnavailable
from ..services.indicators import outreach
from ..services.indicators.periods import Period, local_today
from ..services.operations.institutions import institution_of
from ..services.papers import forwarding
from ..services.papers import register as register_service
from ..services.transaction import unit_of_work
from ..tenancy import public_url
from . import bp
from .forms import RegisterForm
from .zipstream import stream_zip

MIMETYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "svg": "image/svg+xml",
    "png": "image/png",
}


def document_response(body: bytes, kind: str, name: str) -> Response:
    response = Response(body, mimetype=MIMETYPES[kind])
    response.headers["Content-Disposition"] = attachment_header(name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/register", methods=["GET", "POST"])
@staff_view(Role.HANDLER)
def register(access):
    """The register for a period. POST only (the reason is typed each time), as the page or
    as DOCX/PDF, chosen by the button pressed."""
    form = RegisterForm()
    if request.method == "GET":
        today = local_today()
        form.start.data, form.end.data = today.replace(month=1, day=1), today
        return render_template("papers/register.html", form=form, rows=None)
    kind = request.form.get("format", "page")
    if form.validate_on_submit():
        try:
            with unit_of_work():
                period = Period.between(form.start.data, form.end.data)
                rows = register_service.register_rows(access, period, form.reason.data)
                institution_name = institution_of(access.member).name
                document = register_document.register_document(
                    institution_name, period, rows, access.member.name)
        except DomainError as error:
            show_error(form, error)
        else:
            name = f"registru-sesizari-{period.first_day}-{period.last_day}"
            if kind == "docx":
                return document_response(render_docx(document), kind, f"{name}.docx")
            if kind == "pdf":
                return document_response(render_pdf(document), kind, f"{name}.pdf")
            return render_template(
                "papers/register.html", form=form, rows=register_document.register_table(rows),
                headers=register_document.HEADERS, institution=institution_name,
                period=period), 200, {"Cache-Control": "no-store"}
    return render_template("papers/register.html", form=form, rows=None), 400


@bp.route("/cases/<int:case_id>/forwarding-packet.<any(pdf, zip):kind>")
@staff_view(Role.HANDLER)
def forwarding_packet(access, case_id: int, kind: str):
    """The packet of a forwarded case. The ZIP streams after the commit: what it iterates
    holds plain values only (the PDF's bytes and the files' decrypting streams)."""
    try:
        with unit_of_work():
            opened = open_case(access, case_id)
            if kind == "pdf":
                content = forwarding.pdf_packet(opened)
                files: list = []
            else:
                content, files = forwarding.zip_packet(opened)
            pdf = render_pdf(forwarding_document(institution_of(opened.case).name, content))
            reference = content.case.reference
    except EvidenceUnavailable as error:
        current_app.logger.warning("a file of case %s cannot be opened for its packet", case_id)
        return render_template("errors/error.html", status=500, message=error.message), 500
    except forwarding.PacketRefused as error:
        return render_template("errors/error.html", status=409, message=error.message), 409
    name = f"transmitere-{reference}"
    if kind == "pdf":
        return document_response(pdf, kind, f"{name}.pdf")
    members: list[tuple[str, Iterable[bytes]]] = [(f"{name}.pdf", [pdf])]
    members += forwarding.iter_files(files)
    response = Response(stream_zip(members), mimetype=MIMETYPES[kind])
    response.headers["Content-Disposition"] = attachment_header(f"{name}.zip")
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the outreach kit (coordinator) ----------------------------------------------------------

KIT = {
    "poster.pdf": outreach_kit.poster_pdf,
    "leaflet.pdf": outreach_kit.leaflet_pdf,
    "social.svg": lambda kit: outreach_kit.social_svg(kit).encode(),
    "social.png": outreach_kit.social_png,
}


def _portal_address(member) -> str:
    return public_url(institution_of(member), "public.index")


@bp.route("/outreach/kit")
@staff_view(Role.COORDINATOR)
def outreach_kit_page(access):
    with unit_of_work():
        kit = outreach.kit_text(access.member, _portal_address(access.member))
    return render_template("papers/outreach_kit.html", kit=kit)


@bp.route("/outreach/kit/<any('poster.pdf', 'leaflet.pdf', 'social.svg', 'social.png'):name>")
@staff_view(Role.COORDINATOR)
def outreach_kit_file(access, name: str):
    make, kind = KIT[name], name.rsplit(".", 1)[1]
    with unit_of_work():
        kit = outreach.kit_text(access.member, _portal_address(access.member))
    response = Response(make(kit), mimetype=MIMETYPES[kind])
    # Downloaded, never rendered from here: the SVG carries the institution's typed name.
    response.headers["Content-Disposition"] = attachment_header(f"avertizor-{name}")
    return response

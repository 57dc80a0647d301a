"""The institution's public profile: contacts on its public pages and privacy notice, and a
logo re-encoded on upload (nothing of the uploaded file but its pixels is kept)."""
import io

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from app.extensions import db
from app.models import Institution, Role
from tests.support.forms import csrf_token
from tests.support.staff import sign_in_client


def _png(text_chunk: str) -> bytes:
    image = Image.new("RGB", (40, 20), (200, 30, 30))
    info = PngInfo()
    info.add_text("Author", text_chunk)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_the_admin_publishes_contacts_and_a_logo(app, institution, make_handler):
    admin = make_handler(roles=(Role.ADMIN,))
    staff = sign_in_client(app.test_client(), admin)
    token = csrf_token(staff, "/staff/admin/profile")
    answer = staff.post("/staff/admin/profile", data={
        "csrf_token": token, "county": "Iași", "address": "Str. Principală nr. 1, Bălțați",
        "office_hours": "Luni–Vineri 8–16", "phone": "0232 710 101",
        "public_email": "primaria@baltati.example", "dpo_contact": "dpo@baltati.example",
        "logo": (io.BytesIO(_png("Ion Secretar, laptop-primarie")), "sigla.png")},
        content_type="multipart/form-data")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]

    stored = db.session.get(Institution, institution.id)
    db.session.refresh(stored)
    assert stored.logo and b"Ion Secretar" not in stored.logo  # only the pixels were kept
    with Image.open(io.BytesIO(stored.logo)) as kept:
        assert kept.size == (40, 20) and not kept.info.get("Author")

    visitor = app.test_client()
    home = visitor.get("/").get_data(as_text=True)
    assert "0232 710 101" in home and "Str. Principală nr. 1, Bălțați" in home
    assert 'src="/logo.png"' in home
    logo = visitor.get("/logo.png")
    assert logo.status_code == 200 and logo.headers["Content-Type"] == "image/png"
    assert logo.data == stored.logo
    assert "dpo@baltati.example" in visitor.get("/privacy").get_data(as_text=True)


def test_a_file_that_is_no_png_is_refused_and_nothing_is_saved(app, institution, make_handler):
    admin = make_handler(roles=(Role.ADMIN,))
    staff = sign_in_client(app.test_client(), admin)
    answer = staff.post("/staff/admin/profile", data={
        "csrf_token": csrf_token(staff, "/staff/admin/profile"), "phone": "0232 000 000",
        "logo": (io.BytesIO(b"<svg onload='alert(1)'/>"), "sigla.png")},
        content_type="multipart/form-data")
    assert answer.status_code == 400
    assert "PNG" in answer.get_data(as_text=True)
    stored = db.session.get(Institution, institution.id)
    db.session.refresh(stored)
    assert stored.logo is None and stored.phone is None  # nothing half-saved
    assert app.test_client().get("/logo.png").status_code == 404

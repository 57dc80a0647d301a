"""Evidence files: metadata stripped from pictures, names made harmless, limits enforced."""
import io

from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Case
from app.services.access import keys as access
from app.services.intake.evidence import attachment_chunks, attachment_meta, safe_filename
from app.services.staff.members import unlock_private_key


def photo_with_gps(marker: str) -> bytes:
    image = Image.new("RGB", (32, 16), "red")
    exif = Image.Exif()
    exif[0x010F] = f"Camera {marker}"  # Make
    exif[0x8825] = {1: "N", 2: (47.0, 12.0, 30.0), 3: "E", 4: (27.0, 9.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def decrypted_files(handler) -> list[tuple[dict, bytes]]:
    case = db.session.scalar(select(Case))
    key = access.open_case_key(case, handler, unlock_private_key(handler, handler.password))
    return [(attachment_meta(a, key), b"".join(attachment_chunks(a, key)))
            for a in db.session.scalars(select(Attachment).order_by(Attachment.id))]


def test_photo_is_stripped_of_exif_and_gps_before_encryption(submit, make_handler):
    handler = make_handler()
    original = photo_with_gps("MARKER42")
    assert b"MARKER42" in original
    response, receipt = submit(files=[(io.BytesIO(original), "scena.jpg")])
    assert receipt, response.get_data(as_text=True)
    [(meta, content)] = decrypted_files(handler)
    assert meta["name"] == "scena.jpg" and meta["type"] == "image/jpeg"
    assert b"MARKER42" not in content
    with Image.open(io.BytesIO(content)) as cleaned:
        assert cleaned.size == (32, 16)
        assert not cleaned.getexif()
        assert cleaned.getexif().get_ifd(0x8825) == {}


def test_png_text_chunks_are_removed(submit, make_handler):
    from PIL.PngImagePlugin import PngInfo

    handler = make_handler()
    info = PngInfo()
    info.add_text("Author", "MARKER-PNG")
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG", pnginfo=info)
    submit(files=[(io.BytesIO(out.getvalue()), "a.png")])
    [(_, content)] = decrypted_files(handler)
    assert b"MARKER-PNG" not in content and content.startswith(b"\x89PNG")


def test_other_files_are_kept_byte_for_byte(submit, make_handler):
    handler = make_handler()
    body = b"%PDF-1.7\n" + bytes(range(256)) * 5000
    submit(files=[(io.BytesIO(body), "contract.pdf")])
    [(meta, content)] = decrypted_files(handler)
    assert content == body and meta["size"] == len(body)


def test_path_tricks_in_file_names_stay_names():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("..\\..\\windows\\system.ini") == "system.ini"
    assert safe_filename("C:\\Users\\ana\\dovada.pdf") == "dovada.pdf"
    assert safe_filename("a\x00b\nc.txt") == "abc.txt"
    assert safe_filename("..") == "file"
    assert len(safe_filename("x" * 1000 + ".pdf")) == 200


def test_stored_file_names_are_random_and_inside_the_upload_folder(submit, make_handler,
                                                                    upload_folder):
    from pathlib import Path

    make_handler()
    submit(files=[(io.BytesIO(b"x"), "../../../evil.txt")])
    names = [p.name for p in Path(upload_folder).rglob("*") if p.is_file()]
    assert len(names) == 1 and "evil" not in names[0] and len(names[0]) == 32
    assert db.session.scalar(select(func.count(Attachment.id))) == 1

"""Evidence files: checked, cleaned of image metadata, encrypted to disk in chunks."""
import errno
import io
import json
import mimetypes
import os
import secrets
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PureWindowsPath
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from ..crypto import aead
from ..crypto import files as file_crypto
from ..models import Attachment
from .errors import EvidenceRejected, StorageFull
from .transaction import stage_file

# Formats whose metadata (EXIF, GPS, XMP, comments) is removed by re-encoding the pixels.
CLEANED_IMAGES = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
MAX_NAME_LENGTH = 200


@dataclass
class Evidence:
    filename: str
    mimetype: str
    stream: BinaryIO


def safe_filename(raw: str | None) -> str:
    """The last path component, without control characters, bounded in length."""
    name = PureWindowsPath((raw or "").replace("/", "\\")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[-MAX_NAME_LENGTH:] or "file"


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _size(stream: BinaryIO) -> int:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def strip_image_metadata(stream: BinaryIO, image_format: str) -> BinaryIO:
    """Re-encode the picture without EXIF, GPS, XMP, ICC or text chunks."""
    try:
        with Image.open(stream) as original:
            original.load()
            image = ImageOps.exif_transpose(original)  # keep the visible orientation
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise EvidenceRejected(_l("This picture could not be read. Please send it in another "
                                  "format or as a PDF.")) from exc
    image.info = {}
    cleaned = io.BytesIO()
    options = {"exif": b""}
    if image_format == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        options["quality"] = 92
    image.save(cleaned, format=image_format, **options)
    cleaned.seek(0)
    return cleaned


def prepare_evidence(uploads) -> list[Evidence]:
    """Check every file before anything is stored; images come back stripped of metadata."""
    config = current_app.config
    # Only files: a text value sent under a file field's name is not evidence.
    uploads = [upload for upload in uploads if isinstance(upload, FileStorage) and upload.filename]
    if len(uploads) > config["UPLOAD_MAX_FILES"]:
        raise EvidenceRejected(
            _l("You can attach at most %(count)d files.", count=config["UPLOAD_MAX_FILES"]),
            field="evidence")
    max_file_mb = config["UPLOAD_MAX_FILE_BYTES"] // (1024 * 1024)
    total, prepared = 0, []
    for upload in uploads:
        name = safe_filename(upload.filename)
        extension = _extension(name)
        if extension not in config["UPLOAD_ALLOWED_EXTENSIONS"]:
            raise EvidenceRejected(
                _l("“%(name)s” is not a kind of file we accept. Accepted: %(kinds)s.", name=name,
                   kinds=", ".join(sorted(config["UPLOAD_ALLOWED_EXTENSIONS"]))),
                field="evidence")
        size = _size(upload.stream)
        if size > config["UPLOAD_MAX_FILE_BYTES"]:
            raise EvidenceRejected(
                _l("“%(name)s” is larger than %(mb)d MB.", name=name, mb=max_file_mb),
                field="evidence")
        total += size
        if total > config["UPLOAD_MAX_TOTAL_BYTES"]:
            raise EvidenceRejected(
                _l("Together the files are larger than %(mb)d MB.",
                   mb=config["UPLOAD_MAX_TOTAL_BYTES"] // (1024 * 1024)),
                field="evidence")
        stream = upload.stream
        if extension in CLEANED_IMAGES:
            stream = strip_image_metadata(stream, CLEANED_IMAGES[extension])
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        prepared.append(Evidence(filename=name, mimetype=mimetype, stream=stream))
    return prepared


def _upload_path(storage_name: str) -> str:
    return os.path.join(current_app.config["UPLOAD_FOLDER"], storage_name)


def store_evidence(evidence: Evidence, *, case, case_key: bytes, author: str,
                   message=None) -> Attachment:
    """Encrypt one file under a fresh key (wrapped by the case key) to a random file name.
    The returned row is not yet in the session: the caller adds it with its case."""
    attachment = Attachment(institution_id=case.institution_id, case=case, author=author,
                            message=message)
    attachment.uuid = str(uuid.uuid4())
    attachment.storage_name = secrets.token_hex(16)
    file_key = aead.new_key()
    path = _upload_path(attachment.storage_name)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    stage_file(path)
    try:
        with open(path, "xb") as target:
            size = file_crypto.encrypt_stream(evidence.stream, target, file_key, attachment.uuid)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull(_l("The server has no room for your files right now. Nothing was "
                                 "saved; please try again later.")) from exc
        raise
    meta = {"name": evidence.filename, "type": evidence.mimetype, "size": size}
    attachment.wrapped_file_key = file_crypto.wrap_file_key(case_key, attachment.uuid, file_key)
    attachment.meta = file_crypto.encrypt_meta(case_key, attachment.uuid,
                                               json.dumps(meta).encode())
    return attachment


def attachment_meta(attachment: Attachment, case_key: bytes) -> dict:
    return json.loads(file_crypto.decrypt_meta(case_key, attachment.uuid, attachment.meta))


def attachment_chunks(attachment: Attachment, case_key: bytes) -> Iterator[bytes]:
    file_key = file_crypto.unwrap_file_key(case_key, attachment.uuid, attachment.wrapped_file_key)
    with open(_upload_path(attachment.storage_name), "rb") as source:
        yield from file_crypto.decrypt_stream(source, file_key, attachment.uuid)

"""Evidence files: checked, cleaned of image metadata, recordings disguised (voice), encrypted
to disk in chunks."""
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
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from ...crypto import DecryptionError, aead
from ...crypto import files as file_crypto
from ...models import Attachment
from ..errors import EvidenceRejected, EvidenceUnavailable, StorageFull
from ..transaction import stage_file
from . import voice

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


DEFAULT_MAX_IMAGE_PIXELS = 25_000_000


def _megapixels(pixels: int) -> str:
    value = pixels / 1e6
    return format_decimal(round(value) if value >= 10 else round(value, 2))


def _check_pixels(image: Image.Image) -> None:
    """Refuse a picture whose header announces more pixels than the cap, before any decoding:
    a small compressed file (a "decompression bomb") can unpack to gigabytes of memory."""
    limit = current_app.config.get("UPLOAD_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS)
    width, height = image.size  # from the header: nothing is decoded yet
    if width * height > limit:
        raise EvidenceRejected(
            _l("This picture is too large: %(megapixels)s megapixels, at most %(limit)s are "
               "accepted. Please send a smaller copy of it, or a PDF.",
               megapixels=_megapixels(width * height), limit=_megapixels(limit)),
            field="evidence")


def strip_image_metadata(stream: BinaryIO, image_format: str) -> BinaryIO:
    """Re-encode the picture without EXIF, GPS, XMP, ICC or text chunks."""
    try:
        with Image.open(stream) as original:
            _check_pixels(original)
            original.load()
            image = ImageOps.exif_transpose(original)  # keep the visible orientation
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise EvidenceRejected(_l("This picture could not be read. Please send it in another "
                                  "format or as a PDF.")) from exc
    image.info = {}
    cleaned = io.BytesIO()
    options: dict[str, bytes | int] = {"exif": b""}
    if image_format == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        options["quality"] = 92
    image.save(cleaned, format=image_format, **options)
    cleaned.seek(0)
    return cleaned


def prepare_evidence(uploads, *, disguise_voice: bool = True) -> list[Evidence]:
    """Check every file before anything is stored; images come back stripped of metadata,
    recordings disguised unless the reporter chose to keep their voice (`disguise_voice`)."""
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
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if extension in CLEANED_IMAGES:
            stream = strip_image_metadata(stream, CLEANED_IMAGES[extension])
        elif extension in voice.AUDIO_EXTENSIONS:
            try:  # the original stays in memory; only the Opus (disguised by default) is stored
                stream = io.BytesIO(voice.prepare_voice(stream.read(), name=name,
                                                          disguised=disguise_voice))
                name, mimetype = voice.opus_filename(name), voice.OPUS_MIMETYPE
            except voice.NotVoice:
                stream.seek(0)  # a video under an audio name: kept as it came, like an mp4
        prepared.append(Evidence(filename=name, mimetype=mimetype, stream=stream))
    return prepared


def upload_path(storage_name: str) -> str:
    """Where an evidence file is stored (encrypted), by its random storage name."""
    return os.path.join(current_app.config["UPLOAD_FOLDER"], storage_name)


def write_encrypted(stream, storage_name: str, file_uuid: str, *, full) -> tuple[bytes, int]:
    """Encrypt `stream` under a fresh file key to the upload folder (staged: removed again if
    the transaction fails); returns (file key, size). A full disk is StorageFull(`full`)."""
    file_key = aead.new_key()
    path = upload_path(storage_name)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    stage_file(path)
    try:
        with open(path, "xb") as target:
            size = file_crypto.encrypt_stream(stream, target, file_key, file_uuid)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull(full) from exc
        raise
    return file_key, size


def store_evidence(evidence: Evidence, *, case, case_key: bytes, author: str,
                   message=None) -> Attachment:
    """Encrypt one file under a fresh key (wrapped by the case key) to a random file name.
    The returned row is not yet in the session: the caller adds it with its case."""
    attachment = Attachment(institution_id=case.institution_id, case=case, author=author,
                            message=message)
    attachment.uuid = str(uuid.uuid4())
    attachment.storage_name = secrets.token_hex(16)
    file_key, size = write_encrypted(evidence.stream, attachment.storage_name, attachment.uuid,
                                     full=_l("The server has no room for your files right now. "
                                             "Nothing was saved; please try again later."))
    meta = {"name": evidence.filename, "type": evidence.mimetype, "size": size}
    attachment.wrapped_file_key = file_crypto.wrap_file_key(case_key, attachment.uuid, file_key)
    attachment.meta = file_crypto.encrypt_meta(case_key, attachment.uuid,
                                               json.dumps(meta).encode())
    return attachment


def attachment_meta(attachment: Attachment, case_key: bytes) -> dict:
    return json.loads(file_crypto.decrypt_meta(case_key, attachment.uuid, attachment.meta))


def sealed_size(size: int) -> int:
    """The size on disk of a file whose plaintext has `size` bytes."""
    chunks = max(1, -(-size // file_crypto.CHUNK_BYTES))
    return len(file_crypto.VERSION) + size + chunks * (aead.NONCE_BYTES + 16)


class DecryptedFile:
    """The plaintext of one evidence file, chunk by chunk, holding nothing from the database
    session: the request may commit (and the session expire its rows) before the body streams.
    Iterate once; close() releases the open file (WSGI servers call it)."""

    def __init__(self, source: BinaryIO, first: bytes, rest: Iterator[bytes]):
        self._source, self._first, self._rest = source, first, rest

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield self._first
            yield from self._rest
        finally:
            self.close()

    def close(self) -> None:
        self._source.close()


def open_attachment(attachment: Attachment, case_key: bytes, size: int) -> DecryptedFile:
    """Open an evidence file for streaming, or raise EvidenceUnavailable now.
    Everything the stream needs is read here into plain values (uuid, path, file key); the file
    is opened, its length checked against `size` and its first chunk decrypted, so a missing,
    truncated or damaged file is refused before the caller records a download."""
    file_uuid = attachment.uuid
    path = upload_path(attachment.storage_name)
    unavailable = EvidenceUnavailable(_l(
        "This file cannot be opened: it is missing or damaged on the server. It has not been "
        "recorded as downloaded. Ask the administrator to restore it from the backup."))
    try:
        file_key = file_crypto.unwrap_file_key(case_key, file_uuid, attachment.wrapped_file_key)
        source = open(path, "rb")  # noqa: SIM115 (closed by DecryptedFile)
    except (OSError, DecryptionError) as exc:
        raise unavailable from exc
    try:
        if os.fstat(source.fileno()).st_size != sealed_size(size):
            raise DecryptionError("the file's length does not match its description")
        rest = file_crypto.decrypt_stream(source, file_key, file_uuid)
        first = next(rest)
    except (OSError, DecryptionError, StopIteration) as exc:
        source.close()
        raise unavailable from exc
    return DecryptedFile(source, first, rest)


def attachment_chunks(attachment: Attachment, case_key: bytes) -> Iterator[bytes]:
    """The whole plaintext of an attachment, chunk by chunk (see open_attachment)."""
    return iter(open_attachment(attachment, case_key,
                                attachment_meta(attachment, case_key)["size"]))

"""Evidence files as HTTP downloads, for staff and reporters alike."""
from collections.abc import Iterable
from urllib.parse import quote

from flask import Response


def attachment_header(name: str) -> str:
    fallback = "".join(ch if ch.isascii() and ch.isalnum() or ch in "._-" else "_"
                       for ch in name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def file_download(chunks: Iterable[bytes], name: str, size: int) -> Response:
    """A download that is never rendered (evidence may be hostile HTML or SVG) nor cached.
    `chunks` must hold plain values only: the body streams after the request's commit, when
    the database session is gone."""
    response = Response(chunks, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = attachment_header(name)
    response.headers["Content-Length"] = str(size)
    response.headers["Cache-Control"] = "no-store"
    return response

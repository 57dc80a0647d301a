"""One HTTP client for everything that talks to a real server (gunicorn): the served tests and
the benchmarks in bench/. Each client is one person's browser: its own cookie jar, language
and (behind the proxy) address; it posts the real forms with their CSRF token.

Standard library only, so that a benchmark needs nothing the portal does not already install.
An HTTP error status is an answer, returned like any other; only "no answer" (refused, reset,
timed out) raises OSError.
"""
from __future__ import annotations

import http.cookiejar
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from tests.support.forms import CSRF_RE


@dataclass
class Reply:
    status: int
    url: str  # where the answer came from (the last hop when redirects are followed)
    location: str  # the Location header of a redirect that was not followed, else ""
    body: str
    content: bytes = b""  # the body as sent (a downloaded file)
    headers: dict = field(default_factory=dict)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer


class HttpClient:
    """A browser: `follow_redirects=False` answers a redirect with its own status and
    Location (to measure or check each step); `language` is its Accept-Language; `headers`
    go with every request (e.g. X-Forwarded-For as nginx sets it, a User-Agent)."""

    def __init__(self, base_url: str, *, language: str | None = "en",
                 headers: dict | None = None, follow_redirects: bool = True,
                 timeout: float = 60):
        self.base_url, self.timeout = base_url, timeout
        self.jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)]
        if not follow_redirects:
            handlers.append(_NoRedirect())
        self.opener = urllib.request.build_opener(*handlers)
        self.headers = dict(headers or {})
        if language:
            self.headers.setdefault("Accept-Language", language)

    def request(self, method: str, path: str, data: bytes | None = None,
                headers: dict | None = None) -> Reply:
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={**self.headers, **(headers or {})})
        try:
            with self.opener.open(request, timeout=self.timeout) as response:  # noqa: S310
                content = response.read()
                return Reply(response.status, response.url, "", content.decode(errors="replace"),
                             content, dict(response.headers))
        except urllib.error.HTTPError as error:
            with error:
                content = error.read()
                return Reply(error.code, error.url, error.headers.get("Location", ""),
                             content.decode(errors="replace"), content, dict(error.headers))

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict, files=()) -> Reply:
        """A multipart form, as a browser sends one with files: (field, filename, bytes)."""
        body, content_type = multipart(fields, files)
        return self.request("POST", path, body, {"Content-Type": content_type})

    def post_urlencoded(self, path: str, fields: dict) -> Reply:
        return self.request("POST", path, urllib.parse.urlencode(fields, doseq=True).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def csrf_token(self, path: str) -> str:
        reply = self.get(path)
        match = CSRF_RE.search(reply.body)
        if reply.status != 200 or not match:
            raise AssertionError(f"GET {path}: {reply.status}, no CSRF token")
        return match.group(1)

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)


def multipart(fields: dict, files=()) -> tuple[bytes, str]:
    """A multipart/form-data body; a list value repeats the field. The server names a file's
    type from its name, so every part is sent as application/octet-stream."""
    boundary = "----avertizor" + secrets.token_hex(12)
    parts = []
    for name, value in fields.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                         f"\r\n\r\n{item}\r\n".encode())
    for name, filename, content in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: application/octet-stream'
                     "\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"

"""Headers, cookies, sessions and rate limits on the citizen side."""
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db, limiter
from app.models import ReporterSession
from app.services.intake.references import next_reference
from tests.conftest import csrf_token

PUBLIC_PAGES = ["/", "/report", "/follow-up", "/privacy", "/does-not-exist"]
# The one script of the citizen pages, a static file of this origin, only where a voice
# message can be recorded; never an inline script.
RECORDER = '<script src="/static/js/voice.js" defer></script>'


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_sends_the_security_headers(client, institution, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>.*?</script>", body, re.S)
    assert scripts == ([RECORDER] if path == "/report" else [])
    assert body.count("<script") == len(scripts)
    assert "http://" not in body.replace("http://www.", "")
    microphone = "microphone=(self)" if path == "/report" else "microphone=()"
    assert microphone in response.headers["Permissions-Policy"]


def test_follow_up_cookie_is_strict_and_scoped(client, submit, make_handler, follow_up):
    make_handler()
    _, receipt = submit()
    response = follow_up(receipt)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("avertizor_followup=")
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/follow-up"):
        assert attribute in cookie
    assert receipt not in cookie


def test_logout_deletes_the_session_row(client, submit, make_handler, follow_up):
    make_handler()
    _, receipt = submit()
    follow_up(receipt)
    assert db.session.scalar(select(func.count(ReporterSession.id))) == 1
    token = csrf_token(client, "/follow-up/case")
    assert client.post("/follow-up/logout", data={"csrf_token": token}).status_code == 302
    assert db.session.scalar(select(func.count(ReporterSession.id))) == 0
    assert client.get("/follow-up/case").status_code == 401


@pytest.mark.parametrize("app_config", [{"REPORTER_SESSION_IDLE_MINUTES": 0}], indirect=True)
def test_idle_session_ends(client, submit, make_handler, follow_up):
    make_handler()
    _, receipt = submit()
    follow_up(receipt)
    response = client.get("/follow-up/case")
    assert response.status_code == 401
    assert "Your session has ended" in response.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "RATELIMIT_RECEIPT_LOGIN": "3 per minute"}],
                         indirect=True)
def test_receipt_login_is_throttled_and_the_limiter_never_sees_the_address(client, institution):
    client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    statuses = []
    for _ in range(5):
        token = csrf_token(client, "/follow-up")
        statuses.append(client.post("/follow-up", data={
            "receipt": "1111 2222 3333 4444", "csrf_token": token}).status_code)
    assert statuses == [400, 400, 400, 429, 429]
    keys = list(limiter.storage.storage.keys())
    assert keys and not any("203.0.113.77" in key for key in keys)


def test_nothing_about_the_reporter_is_logged(app, client, submit, make_handler, caplog):
    make_handler()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    client.environ_base["HTTP_USER_AGENT"] = "UniqueAgent/9.9"
    with caplog.at_level(logging.DEBUG):
        _, receipt = submit(what_happened="log marker text")
    assert receipt
    for secret in ("198.51.100.23", "UniqueAgent", receipt, "log marker text"):
        assert secret not in caplog.text


def test_references_are_sequential_per_institution_and_year(app, institution):
    first = next_reference(institution.id, 2026)
    second = next_reference(institution.id, 2026)
    other_year = next_reference(institution.id, 2027)
    db.session.commit()
    assert (first, second, other_year) == ("SES-2026-0001", "SES-2026-0002", "SES-2027-0001")


def test_reporter_sessions_expire_absolutely(app, client, submit, make_handler, follow_up):
    make_handler()
    _, receipt = submit()
    follow_up(receipt)
    session = db.session.scalar(select(ReporterSession))
    session.expires_at = session.created_at - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/follow-up/case").status_code == 401

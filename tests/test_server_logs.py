"""Real gunicorn workers behind a trusted proxy: the logs never hold a reporter's address,
user agent or receipt."""
import re
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest

from tests.support.server import gunicorn_server
from tests.support.server_log import assert_no_server_errors

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RECEIPT = re.compile(r'id="receipt-code">([0-9 ]+)<')
CLIENT_ADDRESS = "198.51.100.23"
AGENT = "ReporterPhone/1.0 (unique-agent-marker)"


@pytest.mark.server
def test_access_and_error_logs_hold_nothing_about_the_reporter(
        migrated_database, upload_folder, institution, make_handler):
    make_handler()
    with gunicorn_server(migrated_database, upload_folder, workers=2,
                         extra_env={"PROXY_FIX_HOPS": "1"}) as (base_url, process):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        headers = {"X-Forwarded-For": CLIENT_ADDRESS, "User-Agent": AGENT,
                   "Accept-Language": "en"}

        def fetch(path, data=None):
            body = urllib.parse.urlencode(data).encode() if data else None
            request = urllib.request.Request(base_url + path, data=body, headers=headers)
            with opener.open(request, timeout=30) as response:
                return response.read().decode()

        token = CSRF.search(fetch("/report")).group(1)
        page = fetch("/report", {
            "csrf_token": token, "category": "bribery", "what_happened": "logged-text-marker",
            "work_context": "no", "identity_choice": "anonymous", "consent": "y"})
        receipt = RECEIPT.search(page).group(1)
        token = CSRF.search(fetch("/follow-up")).group(1)
        assert "logged-text-marker" in fetch("/follow-up", {"csrf_token": token,
                                                            "receipt": receipt})
        process.terminate()
        output = process.communicate(timeout=15)[0]

    access_lines = [line for line in output.splitlines() if '"POST /follow-up"' in line]
    assert access_lines, output  # the access log is on, so its silence below means something
    assert_no_server_errors(output.splitlines())
    for secret in (CLIENT_ADDRESS, "127.0.0.1 ", "unique-agent-marker", receipt,
                   receipt.replace(" ", ""), "logged-text-marker"):
        assert secret not in output

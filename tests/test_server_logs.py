"""Real gunicorn workers behind a trusted proxy: the logs never hold a reporter's address,
user agent or receipt."""
import re
import urllib.parse

import pytest

from tests.support.http import HttpClient
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
        browser = HttpClient(base_url, headers={"X-Forwarded-For": CLIENT_ADDRESS,
                                                "User-Agent": AGENT, "Accept-Language": "en"},
                             timeout=30)

        def fetch(path, data=None):
            reply = browser.post_urlencoded(path, data) if data else browser.get(path)
            assert reply.status == 200, (path, reply.status)
            return reply.body

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


def _malformed_request(base_url: str, payload: bytes) -> bytes:
    import socket
    host, port = urllib.parse.urlsplit(base_url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks)


def test_malformed_requests_leave_no_client_address_in_gunicorns_log(
        migrated_database, upload_folder):
    """gunicorn logs "Invalid request from ip=<client>: …" itself, at warning level, whatever
    the access log format: with the most talkative level, no address is left in its log."""
    with gunicorn_server(migrated_database, upload_folder, workers=1,
                         extra_env={"LOG_LEVEL": "debug"}) as (base_url, process):
        for payload in (b"THIS IS NOT HTTP\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                        b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
                        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"):
            answer = _malformed_request(base_url, payload)
            assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        process.terminate()
        output = process.communicate(timeout=15)[0]
    assert "Invalid request from" in output, output  # the message is there, without the address
    assert "127.0.0.1" not in output, [line for line in output.splitlines()
                                       if "127.0.0.1" in line]


def test_the_log_filter_blanks_ipv4_and_ipv6_addresses_and_keeps_the_rest():
    import runpy
    from pathlib import Path
    conf = runpy.run_path(str(Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py"))
    scrub = conf["scrub_addresses"]
    for address in ("203.0.113.5", "2001:db8::1", "::1", "::ffff:192.0.2.1", "fe80::1%eth0",
                    "2001:db8:0:0:1:2:3:4", "2001:DB8:1:2::abcd"):
        cleaned = scrub(f"Invalid request from ip={address}: Invalid HTTP request line")
        assert cleaned == ("Invalid request from ip=[address removed]: "
                           "Invalid HTTP request line"), (address, cleaned)
    for kept in ("[2026-12-01 10:20:51 +0000] [12] [INFO] Booting worker with pid: 13",
                 "Worker exiting (pid: 13)", "GET /staff/cases/12/files/3 1.5 s"):
        assert scrub(kept) == kept

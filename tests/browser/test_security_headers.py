"""What the browser itself receives on the public pages: strict headers, and no cookie but
the app's own (the Flask session with the CSRF token and language, and the follow-up key)."""
import re

import pytest

from tests.browser.citizen import LEAVE, open_case, report

pytestmark = pytest.mark.browser

APP_COOKIES = {
    "avertizor": "/",  # Flask session: CSRF token and chosen language
    "avertizor_followup": "/follow-up",  # reporter session key, only for the follow-up pages
}


def test_public_page_headers_as_seen_by_the_browser(new_page, portal):
    page = new_page(java_script_enabled=False)
    response = page.goto("/")
    headers = response.all_headers()  # names lower-cased, as the browser received them
    print(f"\nheaders on /: {headers}")
    csp = headers.get("content-security-policy", "")
    directives = {part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";")}
    assert directives.get("default-src") == "default-src 'self'", csp
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, csp
    assert headers.get("referrer-policy") == "no-referrer"
    assert headers.get("x-content-type-options") == "nosniff"
    assert "max-age=" in headers.get("strict-transport-security", "")
    assert "no-store" in headers.get("cache-control", "")
    # The landing page needs no state at all: it sets no cookie.
    assert page.context.cookies() == [], page.context.cookies()


def test_frame_ancestors_is_enforced_by_the_browser(new_page, portal):
    """Another site cannot frame the portal (clickjacking a reporter)."""
    page = new_page(java_script_enabled=True)
    page.set_content(f'<iframe id="portal" src="{portal.base_url}/report"></iframe>')
    # set_content returns after the load event, which waits for the frame too.
    framed = [frame.url for frame in page.frames if frame != page.main_frame]
    assert framed and not framed[0].startswith(portal.base_url), framed
    assert page.frame_locator("#portal").locator("form").count() == 0, \
        "the report form loaded inside a frame"


def test_only_the_apps_cookies_strict_and_http_only(new_page, portal):
    page = new_page(java_script_enabled=False)
    set_cookies = []
    page.on("response", lambda response: set_cookies.extend(
        (response.url, value) for name, value in
        ((h["name"].lower(), h["value"]) for h in response.headers_array())
        if name == "set-cookie"))

    page.goto("/?lang=en")
    page.goto("/privacy")
    submitted = report(page)
    open_case(page, submitted.receipt)

    cookies = page.context.cookies()
    print(f"\ncookies while following up: {cookies}\nSet-Cookie seen: {set_cookies}")
    assert {cookie["name"] for cookie in cookies} == set(APP_COOKIES), cookies
    for cookie in cookies:
        assert cookie["path"] == APP_COOKIES[cookie["name"]], cookie
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
        assert cookie["domain"] == "127.0.0.1", cookie  # host-only, no Domain attribute
    followup = next(cookie for cookie in cookies if cookie["name"] == "avertizor_followup")
    assert followup["expires"] > 0, "the follow-up cookie should carry its bounded lifetime"
    for url, header in set_cookies:
        assert re.match(r"(avertizor|avertizor_followup)=", header), (url, header)

    case = page.goto("/follow-up/case")
    assert "no-store" in case.headers.get("cache-control", "")
    assert "no-store" in submitted.response.headers.get("cache-control", "")

    page.click(LEAVE)
    page.wait_for_url(re.compile(r"logged_out=1$"))
    assert {cookie["name"] for cookie in page.context.cookies()} == {"avertizor"}

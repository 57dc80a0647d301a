"""Reach (DESIGN: rural and elderly citizens, slow connections, old phones): every public page
is small, loads nothing from another origin, and fits a 320 px wide screen.

Each page is loaded with the browser cache disabled, so its stylesheet is counted every time:
the budget holds for a first visit over a slow line. A failure here is a defect in the app's
templates or CSS (the message names the page and, for layout, the elements that stick out).
"""
import re
from urllib.parse import urlsplit

import pytest

from tests.browser.citizen import (
    LOGIN_SUBMIT,
    MESSAGE_SUBMIT,
    REPORT_SUBMIT,
    fill_report,
    open_case,
    report,
)

pytestmark = pytest.mark.browser

BUDGET_BYTES = 30 * 1024
NARROW = {"width": 320, "height": 640}
LONG_TEXT = ("Pe 3 martie, la ghișeul de urbanism, funcționarul mi-a cerut bani ca să-mi "
             "elibereze certificatul.\n") * 3

# The main action of each page: it must be visible and inside the screen at 320 px.
MAIN_ACTION = {
    "home": "main .actions a.button >> nth=0",
    "report": REPORT_SUBMIT,
    "privacy": None,
    "follow-up": LOGIN_SUBMIT,
    "receipt": 'main a.button[href$="/follow-up"]',
    "case": MESSAGE_SUBMIT,
}

STICKING_OUT = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > width + 0.5)
    .slice(0, 8)
    .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
         (el.className ? '.' + String(el.className).trim().replace(/\\s+/g, '.') : '') +
         ' right=' + Math.round(el.getBoundingClientRect().right));
}"""


class Recorder:
    """Every request the page makes and every response it gets, from a given moment on."""

    def __init__(self, page):
        self.requests, self.responses, self.blocked = [], [], []
        page.on("request", lambda request: self.requests.append(request))
        page.on("response", lambda response: self.responses.append(response))
        # Chromium reports every Content-Security-Policy refusal on the console: a template
        # that pulls in a foreign resource, an inline style or script would show up here.
        page.on("console", lambda message: self.blocked.append(message.text)
                if "Content Security Policy" in message.text else None)

    def reset(self) -> None:
        self.requests.clear()
        self.responses.clear()
        self.blocked.clear()

    def sizes(self) -> list[tuple[str, int]]:
        sized = []
        for response in self.responses:
            try:
                size = len(response.body())
            except Exception:  # redirects have no body to read; take what was transferred
                size = max(response.request.sizes()["responseBodySize"], 0)
            sized.append((f"{response.status} {response.request.method} {response.url}", size))
        return sized


def open_public_page(page, recorder: Recorder, name: str):
    """Go to the page; the recorder holds only what loading that page cost."""
    if name in ("home", "report", "privacy", "follow-up"):
        path = {"home": "/", "report": "/report", "privacy": "/privacy",
                "follow-up": "/follow-up"}[name]
        recorder.reset()
        page.goto(path)
    elif name == "receipt":
        fill_report(page, LONG_TEXT)
        recorder.reset()
        page.click(REPORT_SUBMIT)
        page.locator("#receipt-code").wait_for()
    elif name == "case":
        submitted = report(page, LONG_TEXT)
        page.goto("/follow-up")
        page.fill("#receipt", submitted.receipt)
        recorder.reset()
        page.click(LOGIN_SUBMIT)
        page.wait_for_url(re.compile(r"/follow-up/case$"))
        assert LONG_TEXT.strip().splitlines()[0] in page.locator("main").inner_text()
    page.wait_for_load_state("load")


def assert_fits_narrow_screen(page, name: str) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= NARROW["width"], (
        f"APP DEFECT (layout): {name} scrolls sideways at 320 px (scrollWidth {scroll_width}); "
        f"elements sticking out: {page.evaluate(STICKING_OUT)}")
    if MAIN_ACTION[name]:
        action = page.locator(MAIN_ACTION[name])
        action.scroll_into_view_if_needed()
        assert action.is_visible(), f"{name}: main action {MAIN_ACTION[name]} not visible"
        box = action.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"], (
            f"APP DEFECT (layout): {name}: main action {MAIN_ACTION[name]} is outside the "
            f"320 px screen: {box}")


@pytest.mark.parametrize("name", list(MAIN_ACTION))
def test_public_page_is_light_same_origin_and_fits_320px(new_page, portal, name):
    page = new_page(java_script_enabled=True, viewport=NARROW)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    recorder = Recorder(page)

    open_public_page(page, recorder, name)

    origin = urlsplit(portal.base_url)
    foreign = [request.url for request in recorder.requests
               if not request.url.startswith("data:")
               and urlsplit(request.url)[:2] != origin[:2]]
    assert not foreign, f"APP DEFECT (reach): {name}: requests to another origin: {foreign}"
    assert not recorder.blocked, \
        f"APP DEFECT (CSP): {name}: the browser refused: {recorder.blocked}"

    sized = recorder.sizes()
    total = sum(size for _, size in sized)
    listing = "\n  ".join(f"{size:>7} B  {what}" for what, size in sized)
    print(f"\n{name}: {total} bytes\n  {listing}")
    assert any(what.endswith(".css") for what, _ in sized), f"{name}: stylesheet not loaded"
    assert total < BUDGET_BYTES, (
        f"APP DEFECT (reach): {name} costs {total} bytes (budget {BUDGET_BYTES}):\n  {listing}")

    assert_fits_narrow_screen(page, name)


def test_english_pages_fit_320px(new_page, portal):
    """The parametrized test above runs in Romanian (the default); English labels differ in
    length, so the same pages are laid out again in English."""
    page = new_page(java_script_enabled=False, viewport=NARROW)
    for name, path in (("home", "/?lang=en"), ("report", "/report"), ("privacy", "/privacy"),
                       ("follow-up", "/follow-up")):
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == "en"
        assert_fits_narrow_screen(page, name)
    submitted = report(page, LONG_TEXT)
    assert_fits_narrow_screen(page, "receipt")
    open_case(page, submitted.receipt)
    assert_fits_narrow_screen(page, "case")

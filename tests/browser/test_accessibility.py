"""axe-core on every citizen page, including the error states: all of them in Romanian (the
default language), and the pages before a submission in English too.

The pages use no JavaScript, but axe itself runs as a script, so these pages are opened in a
JavaScript-enabled context. A failure here is a defect in the app's templates or CSS: the
message lists each violation with its rule id, help text and the elements it found.
"""
import re

import pytest

from tests.browser.citizen import LOGIN_SUBMIT, MESSAGE_SUBMIT, REPORT_SUBMIT, open_case, report

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}


class AxeAudit:
    """Runs axe on each page visited; keeps every violation, fails on serious/critical."""

    def __init__(self, language: str):
        from axe_playwright_python.sync_playwright import Axe
        self.axe = Axe()
        self.language = language
        self.blocking: list[str] = []
        self.advisory: list[str] = []
        self.audited: list[str] = []

    def check(self, page, label: str) -> None:
        page.wait_for_load_state()
        lang = page.evaluate("document.documentElement.lang")
        assert lang == self.language, f"{label}: <html lang={lang!r}>, expected {self.language!r}"
        results = self.axe.run(page)
        self.audited.append(label)
        for violation in results.response["violations"]:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
            line = (f"[{self.language}] {label} ({page.url}): {violation['id']} "
                    f"({violation['impact']}) {violation['help']} -> {targets} "
                    f"{violation.get('helpUrl', '')}")
            (self.blocking if violation["impact"] in BLOCKING else self.advisory).append(line)

    def assert_clean(self) -> None:
        if self.advisory:
            print("\naxe moderate/minor findings (not failing):\n  " + "\n  ".join(self.advisory))
        assert not self.blocking, (
            "APP DEFECT (accessibility): axe found serious/critical violations:\n  "
            + "\n  ".join(self.blocking))


@pytest.mark.parametrize("language", ["ro", "en"])
def test_citizen_pages_have_no_serious_accessibility_violations(new_page, portal, language,
                                                                make_handler):
    from playwright.sync_api import expect

    from app.extensions import db

    make_handler("Bogdan Ionescu")  # with two handlers the form offers exclusion (audited)
    db.session.close()

    page = new_page(java_script_enabled=True)
    audit = AxeAudit(language)

    page.goto(f"/?lang={language}")
    audit.check(page, "home")
    page.goto("/privacy")
    audit.check(page, "privacy notice")
    page.goto("/report")
    audit.check(page, "report form")
    assert portal.handler_name in page.locator("main").inner_text(), \
        "the report form should offer to exclude the handler (that fieldset is audited too)"

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click(REPORT_SUBMIT)  # nothing filled in: novalidate, the server answers
    assert posted.value.status == 400
    expect(page.locator('main [role="alert"]')).to_have_count(1)
    audit.check(page, "report form with errors")

    page.goto("/follow-up")
    audit.check(page, "follow-up login")
    page.fill("#receipt", "0000 0000 0000 0000")
    page.click(LOGIN_SUBMIT)
    expect(page.locator("#receipt-error")).to_have_count(1)
    audit.check(page, "follow-up login with a wrong receipt")

    if language == "ro":
        # The pages behind a submission share their markup across languages: the Romanian
        # (default) run audits them, which keeps the suite fast.
        submitted = report(page, "Primarul a atribuit contractul de deszăpezire firmei fiului.")
        audit.check(page, "receipt")

        open_case(page, submitted.receipt)
        page.fill("#body", "Mai am o fotografie.")
        page.click(MESSAGE_SUBMIT)
        page.wait_for_url(re.compile(r"sent=1$"))
        audit.check(page, "follow-up case with a message")

        page.click(MESSAGE_SUBMIT)  # an empty message: the case page in its error state
        expect(page.locator("#body-error")).to_have_count(1)
        audit.check(page, "follow-up case, empty message refused")

    audit.assert_clean()

"""Bilingual portal: Romanian by default, English on request, and catalogues that keep up
with the code (a new untranslated string fails here, with the list of what is missing)."""
import contextvars
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import escape

from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LOCALES = ("ro", "en")
# The keywords `make extract-messages` uses: Babel's defaults plus `_l` (lazy_gettext).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
CEDILLA = re.compile("[şţŞŢ]")  # Romanian uses comma-below ș ț, not the Turkish cedilla


def placeholders(text: str) -> list[str]:
    return [match.group(0) for match in PLACEHOLDER.finditer(text)]


def stray_percent(text: str) -> int:
    return PLACEHOLDER.sub("", text).replace("%%", "").count("%")


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def load_catalog(locale: str):
    with po_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """`make test` compiles the catalogues; this keeps the module working when run alone."""
    for locale in LOCALES:
        po = po_path(locale)
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            catalog = load_catalog(locale)
            with mo.open("wb") as handle:
                write_mo(handle, catalog)


@pytest.fixture(scope="module")
def ro_catalog():
    return load_catalog("ro")


def messages(catalog):
    return [message for message in catalog if message.id]


def msgid_text(message_id) -> str:
    return message_id[0] if isinstance(message_id, (tuple, list)) else message_id


def translation(catalog, msgid: str) -> str:
    message = catalog.get(msgid)
    assert message is not None and message.string, f"no Romanian translation for {msgid!r}"
    return message.string


def parse_mapping() -> tuple[list, dict]:
    from babel.messages import frontend
    parse = getattr(frontend, "parse_mapping_cfg", None) or frontend.parse_mapping
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        return parse(handle, str(ROOT / "babel.cfg"))


def extracted_from_sources() -> dict[tuple[str, str | None], str]:
    """Every msgid the sources use today, keyed as the catalogue keys them, with its place."""
    method_map, options_map = parse_mapping()
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        msgid = msgid_text(message)
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


# --- the catalogues ---------------------------------------------------------------------------

@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_exists_without_fuzzy_header(locale):
    catalog = load_catalog(locale)
    assert str(catalog.locale) == locale
    assert not catalog.fuzzy, f"{po_path(locale)} still carries the '#, fuzzy' header flag"
    assert po_path(locale).with_suffix(".mo").exists()


def test_every_romanian_entry_is_translated_and_not_fuzzy(ro_catalog):
    untranslated, fuzzy = [], []
    for message in messages(ro_catalog):
        strings = message.string if isinstance(message.string, (tuple, list)) else [message.string]
        if not all(s and s.strip() for s in strings):
            untranslated.append(msgid_text(message.id))
        if message.fuzzy:
            fuzzy.append(msgid_text(message.id))
    assert not untranslated, "untranslated in ro:\n" + "\n".join(untranslated)
    assert not fuzzy, "fuzzy in ro:\n" + "\n".join(fuzzy)
    assert len(messages(ro_catalog)) > 100  # the portal's text really is in there


def test_sources_use_no_msgid_missing_from_romanian_catalogue(ro_catalog):
    found = extracted_from_sources()
    assert len(found) > 100, "extraction found almost nothing: is babel.cfg still right?"
    missing = [f"{place}: {msgid!r}" for (msgid, context), place in sorted(
        found.items(), key=lambda item: item[1]) if ro_catalog.get(msgid, context) is None]
    assert not missing, (
        "strings in the code with no Romanian translation (run `make extract-messages`, then "
        "translate translations/ro/LC_MESSAGES/messages.po):\n" + "\n".join(missing))


def test_placeholders_in_translations_match_their_msgid(ro_catalog):
    wrong = []
    for message in messages(ro_catalog):
        ids = message.id if isinstance(message.id, (tuple, list)) else [message.id]
        expected = Counter(placeholders(ids[0]))
        allowed = set().union(*(placeholders(i) for i in ids))
        strings = message.string if isinstance(message.string, (tuple, list)) else [message.string]
        for string in strings:
            got = placeholders(string)
            if len(ids) == 1 and Counter(got) != expected or not set(got) <= allowed:
                wrong.append(f"{ids[0]!r}: {sorted(expected)} -> {sorted(got)} in {string!r}")
            # a lone % that the msgid lacks would break %-formatting at render time
            if stray_percent(string) > stray_percent(ids[0]):
                wrong.append(f"{ids[0]!r}: stray '%' in {string!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_romanian_uses_comma_below_diacritics(ro_catalog):
    cedilla = [message.string for message in messages(ro_catalog)
               if CEDILLA.search(str(message.string))]
    assert not cedilla, "cedilla ş/ţ instead of comma-below ș/ț:\n" + "\n".join(cedilla)


# --- the language people get ------------------------------------------------------------------

def page(client, url: str, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]*)"', html)
    assert match, "no <html lang> attribute"
    return match.group(1)


HEADING = "Report a possible integrity incident"


class Browser:
    """A test client that states no language preference (the shared `client` prefers English)
    and sends each request from an empty context, as a server does. The `app` fixture keeps one
    application context open for the whole test, and Flask reuses it for every request, so `g`
    (where Flask-Babel caches the locale) would otherwise outlive a request and hide whether the
    language choice really carries over from one request to the next."""

    def __init__(self, client):
        self.client = client

    def get(self, *args, **kwargs):
        return contextvars.Context().run(self.client.get, *args, **kwargs)

    def post(self, *args, **kwargs):
        return contextvars.Context().run(self.client.post, *args, **kwargs)


@pytest.fixture
def browser(app):
    client = app.test_client()
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)  # no preference: the default
    return Browser(client)


def test_romanian_is_the_default(browser, ro_catalog):
    html = page(browser, "/")
    assert html_lang(html) == "ro"
    assert "Semnalați un posibil incident de integritate" in html
    assert str(escape(translation(ro_catalog, "Send a report"))) in html
    assert HEADING not in html


def test_lang_parameter_switches_to_english_and_is_remembered(browser, ro_catalog):
    html = page(browser, "/?lang=en")
    assert html_lang(html) == "en" and HEADING in html
    html = page(browser, "/privacy")  # no parameter: the choice sticks
    assert html_lang(html) == "en" and "Privacy notice" in html
    html = page(browser, "/?lang=ro")
    assert html_lang(html) == "ro"
    assert str(escape(translation(ro_catalog, HEADING))) in html
    assert html_lang(page(browser, "/")) == "ro"


def test_accept_language_alone_gives_english(browser):
    html = page(browser, "/", **{"Accept-Language": "en-GB,en;q=0.9"})
    assert html_lang(html) == "en" and HEADING in html


def test_chosen_language_beats_accept_language(browser):
    page(browser, "/?lang=ro", **{"Accept-Language": "en"})
    html = page(browser, "/", **{"Accept-Language": "en"})
    assert html_lang(html) == "ro" and HEADING not in html


def test_unknown_language_is_ignored(browser):
    html = page(browser, "/?lang=xx")
    assert html_lang(html) == "ro" and HEADING not in html
    page(browser, "/?lang=en")
    html = page(browser, "/?lang=xx")
    assert html_lang(html) == "en" and HEADING in html
    assert html_lang(page(browser, "/")) == "en"


def test_report_form_errors_come_back_in_romanian(browser, institution, ro_catalog):
    form_page = page(browser, "/report")
    assert html_lang(form_page) == "ro"
    assert str(escape(translation(ro_catalog, "What happened?"))) in form_page
    response = browser.post("/report", data={"csrf_token": csrf_token(browser, "/report")})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for msgid in ("Please correct the marked fields. Nothing has been sent yet.",
                  "Please choose what the report is about.",
                  "Please describe what happened.",
                  "Please tell us whether you learned of it at work.",
                  "Please confirm that you have read the privacy notice."):
        assert str(escape(translation(ro_catalog, msgid))) in html, msgid
        assert str(escape(msgid)) not in html, msgid
    assert "Vă rugăm să descrieți ce s-a întâmplat." in html


def test_follow_up_login_error_comes_back_in_romanian(browser, institution, ro_catalog):
    token = csrf_token(browser, "/follow-up")
    response = browser.post("/follow-up", data={"receipt": "", "csrf_token": token})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert html_lang(html) == "ro"
    assert str(escape(translation(ro_catalog, "Please enter your receipt."))) in html


def test_category_labels_follow_the_language(browser, institution, ro_catalog):
    html = page(browser, "/report")
    for msgid in ("Bribery", "Conflict of interest", "Abuse of office"):
        assert str(escape(translation(ro_catalog, msgid))) in html
    html = page(browser, "/report?lang=en")
    assert "Bribery" in html and "Conflict of interest" in html

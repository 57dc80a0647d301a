"""What the tests read from the portal's pages: the CSRF token and the receipt."""
import re

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RECEIPT_RE = re.compile(r'id="receipt-code">([0-9 ]+)<')


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form at `url`, fetched with a Flask test client."""
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)

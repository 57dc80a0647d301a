"""What the tests read from the portal's pages: the CSRF token and the receipt."""
import re
from datetime import date

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RECEIPT_RE = re.compile(r'id="receipt-code">([0-9 ]+)<')


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form at `url`, fetched with a Flask test client."""
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def intake(staff, **overrides):
    """Record a report at /staff/intake as a handler fills the form (a box report by
    default); `overrides` change fields, e.g. channel="phone", evidence=(stream, name)."""
    token = CSRF_RE.search(staff.get("/staff/intake").get_data(as_text=True)).group(1)
    data = {"csrf_token": token, "channel": "box", "platform": "",
            "received_on": date.today().isoformat(), "category": "bribery",
            "what_happened": "Funcționarul a cerut bani pentru autorizația de construire.",
            "when_where": "", "persons_involved": "", "transcript": "", "work_context": "",
            "anonymous": "y", "name": "", "email": "", "phone": "", "form_code": "",
            "issue_receipt": "y"}
    data.update(overrides)
    return staff.post("/staff/intake", data=data, content_type="multipart/form-data")

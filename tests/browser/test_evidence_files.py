"""Evidence files through real gunicorn workers, where a response really streams after the
request's commit: a file that cannot be read is refused with the portal's page and is not
audited as downloaded; a reporter downloads only the files of their own case; a picture
whose header announces too many pixels is refused before it is decoded."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, AuditEntry, Case
from tests.support.staff import sign_in_page

from .citizen import MESSAGE_SUBMIT, fill_report, huge_png, open_case, report
from .test_backoffice_journey import main_text

pytestmark = pytest.mark.browser

FILES = {"intreg.txt": b"fisier intreg\n" * 50, "lipsa.txt": b"fisier sters de pe disc\n",
         "stricat.txt": b"un octet schimbat\n" * 40, "taiat.txt": b"fisier trunchiat\n" * 30}


def stored_files(reference: str) -> dict:
    """The case's id and its attachments (id, name on disk) in the order sent, read in the
    test's own session (then let go)."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    rows = db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                              .order_by(Attachment.id)).all()
    found = {"case_id": case.id, "rows": [(row.id, row.storage_name) for row in rows]}
    db.session.close()
    return found


def downloads_audited() -> int:
    count = len(db.session.scalars(select(AuditEntry.id).where(
        AuditEntry.action == "file_downloaded")).all())
    db.session.close()
    return count


@pytest.mark.server_errors(r'"GET /staff/cases/\d+/files/\d+" 500 ',
                           r"evidence file \d+ of case \d+ cannot be opened")
def test_a_file_that_cannot_be_read_is_refused_and_not_audited(new_page, portal):
    citizen = new_page(java_script_enabled=False)
    submitted = report(citizen, files=[{"name": name, "mimeType": "text/plain", "buffer": data}
                                       for name, data in FILES.items()])
    stored = stored_files(submitted.reference)
    (good, _), (missing, missing_name), (damaged, damaged_name), (cut, cut_name) = \
        stored["rows"]
    uploads = portal.server.uploads
    (uploads / missing_name).unlink()
    sealed = bytearray((uploads / damaged_name).read_bytes())
    sealed[40] ^= 0x01
    (uploads / damaged_name).write_bytes(bytes(sealed))
    whole = (uploads / cut_name).read_bytes()
    (uploads / cut_name).write_bytes(whole[:-5])

    handler = new_page(locale="en-GB")
    sign_in_page(handler, portal.handler)
    before = downloads_audited()
    case_url = f"/staff/cases/{stored['case_id']}"
    for file_id in (missing, damaged, cut):
        response = handler.goto(f"{case_url}/files/{file_id}")
        assert response.status == 500
        assert "content-disposition" not in response.headers
        assert "It has not been recorded as downloaded" in main_text(handler)
    assert downloads_audited() == before, "a failed download was audited as done"

    ok = handler.request.get(f"{case_url}/files/{good}")
    assert ok.status == 200 and ok.body() == FILES["intreg.txt"]
    assert ok.headers["cache-control"] == "no-store"
    assert downloads_audited() == before + 1


def test_a_reporter_downloads_only_the_files_of_their_own_case(new_page, portal):
    mine = new_page(java_script_enabled=False)
    submitted = report(mine, files=[{"name": "a mea.txt", "mimeType": "text/plain",
                                     "buffer": b"dovada mea"}])
    other = new_page(java_script_enabled=False)
    theirs = report(other, "Alt caz, alt reclamant.", files=[
        {"name": "a lor.txt", "mimeType": "text/plain", "buffer": b"dovada lor"}])
    my_file = stored_files(submitted.reference)["rows"][0][0]
    their_file = stored_files(theirs.reference)["rows"][0][0]

    open_case(mine, submitted.receipt)
    own = mine.request.get(f"/follow-up/files/{my_file}")
    assert own.status == 200 and own.body() == b"dovada mea"
    assert own.headers["cache-control"] == "no-store"
    assert own.headers["content-disposition"].startswith("attachment;")
    assert "a_mea.txt" in own.headers["content-disposition"]
    assert own.headers["content-type"] == "application/octet-stream"
    refused = mine.request.get(f"/follow-up/files/{their_file}")
    assert refused.status == 404 and b"dovada lor" not in refused.body()

    # Without a follow-up session nothing opens: the receipt form comes back.
    stranger = new_page(java_script_enabled=False)
    response = stranger.goto(f"/follow-up/files/{my_file}")
    assert response.status == 401 and stranger.locator("#receipt").count() == 1


def peak_memory_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_picture_with_too_many_pixels_is_refused_before_decoding(new_page, portal):
    """8000×8000 pixels in a ~200 KB PNG: 192 MB once decoded (Pillow's own limit is ~89 MP).
    The header is read, the picture refused with a message beside the field, and no worker
    grows by the decoded size."""
    bomb = huge_png(8000, 8000)
    assert len(bomb) < 300_000
    page = new_page(java_script_enabled=False, locale="en-GB")
    fill_report(page, "O poză uriașă.", files=[
        {"name": "bomba.png", "mimeType": "image/png", "buffer": bomb}])
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click('main form[action$="/report"] button[type="submit"]')
    assert posted.value.status == 400
    error = page.locator("#evidence-error").inner_text()
    assert "too large: 64 megapixels, at most 25" in error
    assert page.locator("#receipt-code").count() == 0
    for pid in portal.server.worker_pids():
        assert peak_memory_kib(pid) < 350_000, "a worker decoded the picture"

    # The same refusal, in Romanian, when a reporter adds it at follow-up.
    submitted = report(new_page(java_script_enabled=False))
    citizen = new_page(java_script_enabled=False)
    open_case(citizen, submitted.receipt)
    citizen.fill("#body", "Încă o poză.")
    citizen.set_input_files('main form[action$="/follow-up/message"] input[type="file"]', {
        "name": "bomba.png", "mimeType": "image/png", "buffer": bomb})
    citizen.click(MESSAGE_SUBMIT)
    assert "prea mulți pixeli (64 MP)" in main_text(citizen)
    assert not re.search(r"\?sent=1$", citizen.url)

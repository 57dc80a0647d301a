"""Onboarding institutions on a shared deployment: `flask --app wsgi institution add` and
`institution import FILE.csv`, through the real CLI, database and SMTP server.

What must hold: a file with one bad row creates nothing and names every bad line; a good file
creates each institution with its own recovery key and receipt salt, invites its
administrator by e-mail (the operator invites, no staff member), and writes one PDF per
institution whose code, read back from the PDF's text, is that institution's recovery key;
the code is stored nowhere. Slugs are unique and never one of the portal's own segments.
"""
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import func, select

from app.crypto import keys
from app.crypto.seal import public_bytes
from app.extensions import db
from app.models import Institution, Invitation, OutboxMail, StaffMember
from app.services.operations import institutions
from app.services.operations.institutions import (
    RESERVED_SLUGS,
    InstitutionRefused,
    create_institution,
)
from app.services.operations.outbox import deliver_outbox
from tests.support import mail as mail_fixtures
from tests.support.database import stored_row_values
from tests.support.mail import SmtpServer
from tests.test_admin import activate

smtp_port, app_config = mail_fixtures.smtp_port, mail_fixtures.app_config

HEADER = "name,county,siruta,cui,admin_email\n"
GOOD = ("Comuna Bălțați,Iași,95435,RO4541085,primar@baltati.example\n"
        "Comuna Țigănași,Iași,97829,4540640,secretar@tiganasi.example\n"
        "\"Comuna Șipote, județul Iași\",Iași,98238,4541093,admin@sipote.example\n")
GROUP = re.compile(r"\b[A-Z2-7]{4}\b")


@pytest.fixture
def smtp(smtp_port):
    server = SmtpServer(smtp_port).start()
    yield server
    server.stop()


def invoke(app, *args):
    with force_locale("en"):
        return app.test_cli_runner().invoke(args=list(args))


def code_on_page(pdf: Path) -> str:
    """The recovery code as a person would copy it from the printed page."""
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    section = text.split("Codul de recuperare", 2)[-1].split("La introducere")[0]
    return "-".join(GROUP.findall(section))


def test_a_file_with_bad_rows_creates_nothing_then_a_good_one_onboards_each_institution(
        app, smtp, tmp_path):
    out = tmp_path / "pages"
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + GOOD.splitlines(keepends=True)[0]
                   + "Comuna Rediu,Iași,12a45,4541000,admin@rediu.example\n"
                   + "Comuna Golăiești,Iași,96110,4541051,not-an-address\n", encoding="utf-8")
    result = invoke(app, "institution", "import", str(bad), "--out", str(out))
    assert result.exit_code == 1
    assert "line 3: The SIRUTA code has digits only, at most 6." in result.output
    assert "line 4: The administrator's e-mail address is not valid." in result.output
    assert "line 2" not in result.output
    assert "2 row(s) with errors; no institution was created" in result.output
    assert db.session.scalar(select(func.count(Institution.id))) == 0
    assert not out.exists() or not any(out.iterdir())

    good = tmp_path / "communes.csv"
    good.write_bytes(b"\xef\xbb\xbf" + (HEADER + GOOD).encode())  # as Excel saves CSV UTF-8
    result = invoke(app, "institution", "import", str(good), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "page 3/3: Comuna Șipote, județul Iași" in result.output
    made = list(db.session.scalars(select(Institution).order_by(Institution.id)))
    assert [(i.name, i.slug, i.county, i.siruta_code, i.cui) for i in made] == [
        ("Comuna Bălțați", "comuna-baltati", "Iași", "95435", "4541085"),
        ("Comuna Țigănași", "comuna-tiganasi", "Iași", "97829", "4540640"),
        ("Comuna Șipote, județul Iași", "comuna-sipote-judetul-iasi", "Iași", "98238",
         "4541093")]
    assert len({i.receipt_salt for i in made}) == 3
    assert len({i.recovery_public_key for i in made}) == 3

    pages = sorted(out.iterdir())
    assert [page.name for page in pages] == sorted(f"{i.slug}-recovery.pdf" for i in made)
    codes = {}
    for institution in made:
        page = out / f"{institution.slug}-recovery.pdf"
        assert page.stat().st_mode & 0o077 == 0
        text = "\n".join(p.extract_text() for p in PdfReader(page).pages)
        assert institution.name in text and institution.siruta_code in text \
            and institution.cui in text and "seiful" in text
        code = code_on_page(page)
        assert len(code.replace("-", "")) == 52
        # The printed code is this institution's private recovery key, and no other's.
        private = keys.private_key_from_recovery_code(code)
        assert public_bytes(private.public_key()) == institution.recovery_public_key
        codes[institution.slug] = code
    assert len(set(codes.values())) == 3
    # Never stored: no column of any row holds the code or its raw key.
    dump = stored_row_values()
    for code in codes.values():
        raw = keys.private_key_from_recovery_code(code).private_bytes_raw()
        assert code not in dump and code.replace("-", "") not in dump
        assert raw.decode("latin-1") not in dump

    # Each administrator is invited by the operator (no inviting staff member), by mail.
    invitations = list(db.session.scalars(select(Invitation).order_by(Invitation.id)))
    assert [(i.institution_id, i.email, i.roles, i.invited_by_staff_id) for i in invitations] \
        == [(made[0].id, "primar@baltati.example", "admin", None),
            (made[1].id, "secretar@tiganasi.example", "admin", None),
            (made[2].id, "admin@sipote.example", "admin", None)]
    report = deliver_outbox()
    assert report.sent == 3
    for invitation in invitations:
        [mail] = smtp.inbox.to(invitation.email)
        link = re.search(r"https?://\S+/staff/activate/\S+", mail.body).group(0)
        assert app.test_client().get(urlparse(link).path).status_code == 200
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 3


def test_the_same_file_twice_is_refused_by_its_identifiers(app, smtp, tmp_path):
    good = tmp_path / "communes.csv"
    good.write_text(HEADER + GOOD, encoding="utf-8")
    assert invoke(app, "institution", "import", str(good), "--out",
                  str(tmp_path / "a")).exit_code == 0
    result = invoke(app, "institution", "import", str(good), "--out", str(tmp_path / "b"))
    assert result.exit_code == 1
    assert "line 2: An institution with SIRUTA code 95435 exists already." in result.output
    assert "line 4:" in result.output
    assert db.session.scalar(select(func.count(Institution.id))) == 3
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


def test_add_one_institution_invites_its_admin_and_writes_its_page(app, smtp, tmp_path):
    result = invoke(app, "institution", "add", "--name", "Comuna Bălțați", "--county", "Iași",
                    "--siruta", "95435", "--cui", "RO 4541085", "--admin-email",
                    "Primar@Baltati.example", "--out", str(tmp_path / "pages"))
    assert result.exit_code == 0, result.output
    institution = db.session.scalar(select(Institution))
    assert (institution.slug, institution.cui) == ("comuna-baltati", "4541085")
    page = tmp_path / "pages" / "comuna-baltati-recovery.pdf"
    private = keys.private_key_from_recovery_code(code_on_page(page))
    assert public_bytes(private.public_key()) == institution.recovery_public_key
    assert deliver_outbox().sent == 1
    assert smtp.inbox.to("primar@baltati.example")
    # The same SIRUTA again: refused, nothing more created, no page written over.
    result = invoke(app, "institution", "add", "--name", "Alta comună", "--siruta", "95435",
                    "--admin-email", "x@y.example", "--out", str(tmp_path / "pages"))
    assert result.exit_code == 1 and "SIRUTA code 95435 exists already" in result.output
    assert db.session.scalar(select(func.count(Institution.id))) == 1


def test_list_suspend_and_resume(app, tmp_path):
    create_institution("Comuna Bălțați", county="Iași", siruta_code="95435")
    create_institution("Comuna Vulturu", county="Vrancea")
    db.session.commit()
    result = invoke(app, "institution", "list")
    assert result.output.splitlines() == [
        "comuna-baltati\tComuna Bălțați\tIași\t95435\t-\tactive",
        "comuna-vulturu\tComuna Vulturu\tVrancea\t-\t-\tactive"]
    assert invoke(app, "institution", "suspend", "comuna-vulturu").exit_code == 0
    assert "comuna-vulturu\tComuna Vulturu\tVrancea\t-\t-\tsuspended" in \
        invoke(app, "institution", "list", "--county", "Vrancea").output
    again = invoke(app, "institution", "suspend", "comuna-vulturu")
    assert again.exit_code == 1 and "suspended already" in again.output
    assert invoke(app, "institution", "resume", "comuna-vulturu").exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(Institution.suspended_at).where(
        Institution.slug == "comuna-vulturu")) is None
    assert "There is no institution “nowhere”" in invoke(app, "institution", "suspend",
                                                        "nowhere").output


def test_slugs_are_unique_and_never_a_portal_segment(app):
    assert {"staff", "static", "report", "follow-up", "operator", "robots.txt"} <= RESERVED_SLUGS
    first, _ = create_institution("Comuna Bălțați")
    second, _ = create_institution("COMUNA  BĂLȚAȚI")
    staff, _ = create_institution("Staff")
    report, _ = create_institution("Report!")
    portal_2, _ = create_institution("Portal 2")
    portal, _ = create_institution("Portal")
    assert [i.slug for i in (first, second, staff, report, portal_2, portal)] == [
        "comuna-baltati", "comuna-baltati-2", "staff-2", "report-2", "portal-2", "portal-3"]
    for slug in RESERVED_SLUGS:
        assert institutions.unique_slug(slug) not in RESERVED_SLUGS


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"siruta_code": "95 435"}, "siruta_code", "The SIRUTA code has digits only"),
    ({"siruta_code": "1234567"}, "siruta_code", "The SIRUTA code has digits only"),
    ({"cui": "RX123"}, "cui", "The CUI has 2 to 10 digits"),
    ({"county": "x" * 41}, "county", "at most 40"),
    ({"public_email": "nobody"}, "public_email", "valid e-mail"),
])
def test_a_bad_identifier_is_refused_in_the_users_language(app, fields, field, message):
    with pytest.raises(InstitutionRefused) as refused:
        create_institution("Comuna Bălțați", **fields)
    with force_locale("en"):
        english = str(refused.value.message)
    assert refused.value.field == field and message in english
    with force_locale("ro"):
        assert str(refused.value.message) != english  # the Romanian translation
    assert db.session.scalar(select(func.count(Institution.id))) == 0


def test_the_invited_administrator_activates_and_is_confirmed_with_the_printed_code(
        app, smtp, tmp_path):
    create_institution("Comuna Vulturu")  # the first institution: the new one is not default
    db.session.commit()
    result = invoke(app, "institution", "add", "--name", "Comuna Bălțați", "--siruta",
                    "95435", "--admin-email", "primar@baltati.example", "--out",
                    str(tmp_path))
    assert result.exit_code == 0, result.output
    assert deliver_outbox().sent == 1
    [mail] = smtp.inbox.to("primar@baltati.example")
    link = re.search(r"https?://\S+/staff/activate/\S+", mail.body).group(0)
    response, _secret = activate(app, link)
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    member = db.session.scalar(select(StaffMember).where(
        StaffMember.email == "primar@baltati.example"))
    institution = db.session.scalar(select(Institution).where(
        Institution.slug == "comuna-baltati"))
    assert member.institution_id == institution.id and member.awaiting_confirmation
    code = code_on_page(tmp_path / "comuna-baltati-recovery.pdf")
    with force_locale("en"):
        confirmed = app.test_cli_runner().invoke(
            args=["staff", "confirm", "primar@baltati.example", "--institution",
                  "comuna-baltati"], input=code + "\n")
    assert confirmed.exit_code == 0, confirmed.output
    db.session.expire_all()
    assert db.session.get_one(StaffMember, member.id).confirmed

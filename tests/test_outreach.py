"""The outreach log through its real forms (CSRF on): add, edit, delete with confirmation,
clear messages for bad input with nothing saved, every change audited, and the dashboard
counting the posts per platform."""
import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, OutreachItem, OutreachKind, OutreachPlatform, Role
from tests.conftest import CSRF_RE, csrf_token

GOOD = {"kind": "post", "platform": "facebook", "published_on": "2025-03-01",
        "title": "Cum sesizați un incident de integritate", "link": "https://facebook.com/p/1",
        "audience": "120", "participants": ""}


@pytest.fixture
def coordinator(make_handler):
    return make_handler("Carmen Coordonatoare", roles=(Role.COORDINATOR,))


@pytest.fixture
def browser(coordinator, sign_in):
    return sign_in(coordinator)


def post(browser, url, data):
    return browser.post(url, data={**data, "csrf_token": csrf_token(browser, url)})


def audit_actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.action.like("outreach_%")).order_by(AuditEntry.seq)))


def count_items() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(OutreachItem.id)))


def test_add_edit_delete_with_audit(browser, coordinator):
    response = post(browser, "/staff/outreach/new", GOOD)
    assert response.status_code == 302 and response.headers["Location"].endswith("year=2025")
    item = db.session.scalar(select(OutreachItem))
    assert (item.kind, item.platform, item.published_on, item.audience, item.participants) == (
        OutreachKind.POST, OutreachPlatform.FACEBOOK, date(2025, 3, 1), 120, None)
    assert item.created_by_staff_id == coordinator.id
    listing = browser.get("/staff/outreach?year=2025").get_data(as_text=True)
    assert "Cum sesizați un incident de integritate" in listing and "The entry is saved." in listing

    edit_url = f"/staff/outreach/{item.id}/edit"
    form_page = browser.get(edit_url).get_data(as_text=True)
    assert 'value="Cum sesizați un incident de integritate"' in form_page
    response = post(browser, edit_url, {**GOOD, "kind": "activity", "platform": "public_meeting",
                                        "title": "Întâlnire cu cetățenii", "link": "",
                                        "audience": "", "participants": "35"})
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(OutreachItem, item.id)
    assert (item.kind, item.platform, item.title, item.link, item.participants) == (
        OutreachKind.ACTIVITY, OutreachPlatform.PUBLIC_MEETING, "Întâlnire cu cetățenii", None,
        35)

    delete_url = f"/staff/outreach/{item.id}/delete"
    confirm = browser.get(delete_url)
    assert confirm.status_code == 200 and "Delete the entry?" in confirm.get_data(as_text=True)
    assert count_items() == 1  # asking is not deleting
    refused = browser.post(delete_url, data={})  # no CSRF token
    assert refused.status_code == 400 and count_items() == 1
    response = post(browser, delete_url, {})
    assert response.status_code == 302 and count_items() == 0

    assert audit_actions() == ["outreach_created", "outreach_updated", "outreach_deleted"]
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action.like("outreach_%")).order_by(AuditEntry.seq)).all()
    assert all(entry.actor_staff_id == coordinator.id for entry in entries)
    changes = json.loads(entries[1].detail)["changes"]
    assert changes["kind"] == {"old": "post", "new": "activity"}
    assert changes["participants"] == {"old": None, "new": 35}
    assert json.loads(entries[2].detail)["title"] == "Întâlnire cu cetățenii"


TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize("change, field, message", [
    ({"title": ""}, "title", "Give the title of the post or activity."),
    ({"title": "x" * 301}, "title", "Keep the title under 300 characters."),
    ({"published_on": TOMORROW}, "published_on", "The date cannot be in the future."),
    ({"published_on": ""}, "published_on", "Give the date it was published or held."),
    ({"link": "javascript:alert(1)"}, "link",
     "Give a web address starting with http:// or https://, or leave the link empty."),
    ({"link": "ftp://example.org/x"}, "link",
     "Give a web address starting with http:// or https://, or leave the link empty."),
    ({"audience": "-5"}, "audience", "Give a whole number from 0 to 10000000, or leave it "
                                     "empty."),
    ({"participants": "12"}, "participants",
     "Participants are recorded for awareness activities; for a post, give the audience "
     "reached."),
])
def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(browser, change, field,
                                                                  message):
    response = post(browser, "/staff/outreach/new", {**GOOD, **change})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(rf'<div id="{field}-error"><p class="error">{re.escape(message)}</p>',
                     html.replace("&#39;", "'")), html
    assert "Nothing has been saved." in html
    assert 'aria-invalid="true"' in html
    if "title" not in change:  # what was typed is kept
        assert f'value="{GOOD["title"]}"' in html
    assert count_items() == 0 and audit_actions() == []


def test_a_refused_edit_leaves_the_entry_as_it_was(browser):
    post(browser, "/staff/outreach/new", GOOD)
    item = db.session.scalar(select(OutreachItem))
    response = post(browser, f"/staff/outreach/{item.id}/edit",
                    {**GOOD, "title": "Alt titlu", "published_on": TOMORROW})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(OutreachItem, item.id).title == GOOD["title"]
    assert audit_actions() == ["outreach_created"]


def test_the_dashboard_counts_posts_per_platform(browser):
    for platform, day in (("facebook", "2025-01-05"), ("facebook", "2025-07-01"),
                          ("youtube", "2025-12-31"), ("instagram", "2024-12-31")):
        assert post(browser, "/staff/outreach/new",
                    {**GOOD, "platform": platform, "published_on": day}).status_code == 302
    assert post(browser, "/staff/outreach/new",
                {**GOOD, "kind": "activity", "platform": "public_meeting", "audience": "",
                 "participants": "40", "published_on": "2025-05-05"}).status_code == 302
    html = browser.get("/staff/stats?period=year&year=2025").get_data(as_text=True)
    table = re.search(r"<caption>Preventive posts by platform</caption>(.*?)</table>", html,
                      re.S).group(1)
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">(\d+)</td>', table))
    assert rows["Facebook"] == "2" and rows["YouTube"] == "1" and rows["Instagram"] == "0"
    assert rows["Total"] == "3"
    assert re.search(r"<dt>Preventive posts published</dt><dd>3</dd>", html)
    assert "Awareness activities: 1, with 40 participants." in html


def test_entries_of_another_institution_are_out_of_reach(browser, coordinator, app):
    from app.services.operations.institutions import create_institution

    other, _ = create_institution("Comuna Vecină")
    db.session.flush()
    item = OutreachItem(institution_id=other.id, kind=OutreachKind.POST,
                        platform=OutreachPlatform.FACEBOOK, published_on=date(2025, 1, 1),
                        title="Altă comună")
    db.session.add(item)
    db.session.commit()
    assert browser.get(f"/staff/outreach/{item.id}/edit").status_code == 404
    page = browser.get(f"/staff/outreach/{item.id}/delete")
    assert page.status_code == 404
    token = CSRF_RE.search(browser.get("/staff/outreach/new").get_data(as_text=True)).group(1)
    assert browser.post(f"/staff/outreach/{item.id}/delete",
                        data={"csrf_token": token}).status_code == 404
    assert "Altă comună" not in browser.get("/staff/outreach?year=2025").get_data(as_text=True)

"""Who reaches the coordinator's pages, and what the coordinator can never reach.

A member holding only the coordinator role gets 403 on every route that shows or changes a
case (and never sees a case's text); a handler without the coordinator role gets 403 on the
indicators, the exports, the annual report and the outreach log; an anonymous visitor is sent
to the sign-in page. Someone holding both roles reaches both.
"""
import io
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Case, OutreachItem, Role
from tests.conftest import csrf_token

MARK = "stats-access-secret-text"
STATS_GETS = ["/staff/stats", "/staff/stats?period=year&year=2025", "/staff/stats/annual",
              "/staff/stats/annual/2025", "/staff/stats/export/csv",
              "/staff/stats/export/json", "/staff/stats/export/metadata", "/staff/outreach",
              "/staff/outreach/new", "/staff/outreach/{item}/edit",
              "/staff/outreach/{item}/delete"]
STATS_POSTS = ["/staff/outreach/new", "/staff/outreach/{item}/edit",
               "/staff/outreach/{item}/delete"]


@pytest.fixture
def world(submit, make_handler, sign_in):
    handler = make_handler("Ana Handler")
    coordinator = make_handler("Carmen Coordinator", roles=(Role.COORDINATOR,))
    both = make_handler("Dana Both", roles=(Role.HANDLER, Role.COORDINATOR))
    response, _ = submit(what_happened=MARK, identity_choice="identified", name=MARK,
                         email="x@example.org", files=[(io.BytesIO(MARK.encode()), "f.txt")])
    assert response.status_code == 200
    case = db.session.scalar(select(Case))
    file_id = db.session.scalar(select(Attachment.id))
    browsers = {"handler": sign_in(handler), "coordinator": sign_in(coordinator),
                "both": sign_in(both)}
    token = csrf_token(browsers["coordinator"], "/staff/outreach/new")
    assert browsers["coordinator"].post("/staff/outreach/new", data={
        "kind": "post", "platform": "facebook", "published_on": "2025-01-10",
        "title": "Postare", "csrf_token": token}).status_code == 302
    item = db.session.scalar(select(OutreachItem.id))
    return {"case": case, "file": file_id, "item": item, "browsers": browsers}


def content_urls(world) -> list[tuple[str, str]]:
    case_id = world["case"].id
    gets = [f"/staff/cases/{case_id}", f"/staff/cases/{case_id}/files/{world['file']}",
            "/staff/cases", "/staff/intake", "/staff/identity-requests"]
    posts = [f"/staff/cases/{case_id}/{action}" for action in (
        "triage", "acknowledge", "close", "forward", "message", "note", "reopen", "extend",
        "assign-me", "identity-request")]
    posts += [f"/staff/cases/{case_id}/identity", f"/staff/cases/{case_id}/access/grant",
              "/staff/intake"]
    return [("GET", url) for url in gets] + [("POST", url) for url in posts]


def send(browser, method, url):
    if method == "GET":
        return browser.get(url)
    return browser.post(url, data={"csrf_token": csrf_token(browser, "/staff/password")})


def test_the_coordinator_reaches_no_content_route(world):
    coordinator = world["browsers"]["coordinator"]
    for method, url in content_urls(world):
        response = send(coordinator, method, url)
        assert response.status_code == 403, (method, url, response.status_code)
        assert MARK.encode() not in response.data, (method, url)


def test_the_coordinator_pages_show_no_case_content(world):
    coordinator = world["browsers"]["coordinator"]
    for url in STATS_GETS:
        response = coordinator.get(url.format(item=world["item"]), follow_redirects=True)
        assert response.status_code == 200, url
        assert MARK.encode() not in response.data, url
        assert world["case"].reference.encode() not in response.data, url
    home = coordinator.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/stats"' in home and 'href="/staff/outreach"' in home


def test_a_handler_without_the_role_is_refused_everywhere(world):
    handler = world["browsers"]["handler"]
    for url in STATS_GETS:
        assert handler.get(url.format(item=world["item"])).status_code == 403, url
    for url in STATS_POSTS:
        response = handler.post(url.format(item=world["item"]), data={
            "csrf_token": csrf_token(handler, "/staff/password"), "kind": "post",
            "platform": "x", "published_on": "2025-01-01", "title": "t"})
        assert response.status_code == 403, url
    assert db.session.scalar(select(OutreachItem.title)) == "Postare"  # untouched
    inbox = handler.get("/staff/cases").get_data(as_text=True)
    assert 'href="/staff/stats"' not in inbox


def test_anonymous_visitors_go_to_sign_in(world, app):
    anonymous = app.test_client()
    for url in STATS_GETS:
        response = anonymous.get(url.format(item=world["item"]))
        assert response.status_code == 302, url
        assert urlsplit(response.headers["Location"]).path == "/staff/login"


def test_a_handler_who_is_also_coordinator_reaches_both(world):
    both = world["browsers"]["both"]
    assert both.get("/staff/stats").status_code == 200
    assert both.get("/staff/cases").status_code == 200
    page = both.get("/staff/cases").get_data(as_text=True)
    assert re.search(r'href="/staff/stats">Indicators</a>', page)

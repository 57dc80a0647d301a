"""The public transparency page: no sign-in, no JavaScript, small; per completed year the
reports by channel and outcome, deadline compliance and preventive posts; no free text and no
date of any single case; links to the open-data files."""
import contextvars
import re
from datetime import date

import pytest

from app.extensions import db
from app.models import (
    Category,
    Channel,
    Outcome,
    OutreachItem,
    OutreachKind,
    OutreachPlatform,
    Platform,
    Regime,
)
from tests.support.desk import Desk, utc

MARK = "transparency-free-text-marker"


def add_post(institution, day: date, platform=OutreachPlatform.FACEBOOK, title="Postare"):
    db.session.add(OutreachItem(institution_id=institution.id, kind=OutreachKind.POST,
                                platform=platform, published_on=day, title=title))
    db.session.commit()


def test_every_completed_year_in_one_small_page(client, institution, make_handler,
                                                kdf_params, submit):
    desk = Desk(institution, make_handler("Ana Popescu"), kdf_params)
    this_year = date.today().year
    years = list(range(this_year - 11, this_year))  # eleven completed years: ten are shown
    for offset, year in enumerate(years):
        for n, channel in enumerate((Channel.WEB, Channel.EMAIL, Channel.SOCIAL_MEDIA,
                                     Channel.PHONE)[: 1 + offset % 4]):
            platform = Platform.YOUTUBE if channel is Channel.SOCIAL_MEDIA else None
            case = desk.receive(channel, platform=platform, category=Category.BRIBERY)
            if n == 0:
                desk.triage(case, Regime.PETITION)
                desk.close(case, Outcome.SUBSTANTIATED)
            desk.place(case, utc(year, 3 + n, 10, 9))
        add_post(institution, date(year, 5, 1), title=f"{MARK} post")
    response, _ = submit(what_happened=MARK)  # this year: not published yet
    assert response.status_code == 200

    page = client.get("/transparency")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert len(page.data) < 30_000, len(page.data)
    assert "<script" not in html and 'style="' not in html and MARK not in html
    header = re.search(r'<table class="figures" id="received">.*?<thead>(.*?)</thead>', html,
                       re.S).group(1)
    shown_years = [int(y) for y in re.findall(r'<th scope="col" class="num">(\d{4})</th>',
                                              header)]
    assert shown_years == years[-10:]  # oldest to newest, the current year left out
    for caption in ("Reports received by channel", "Reports received, by their outcome so far",
                    "Legal deadlines that fell in the year",
                    "Preventive messages and posts published"):
        assert f"<caption>{caption}</caption>" in html
    # No date of a single case: the only dates on the page are the years of the columns.
    assert not re.search(r"\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b|\d{4}-\d{2}-\d{2}", html)
    for year in years[-10:]:
        assert f'href="/transparency/{year}.csv"' in html
        assert f'href="/transparency/{year}-metadata.json"' in html
    assert client.get(f"/transparency/{years[-1]}.csv").status_code == 200
    assert client.get(f"/transparency/{years[0]}.csv").status_code == 404  # beyond ten years


def test_the_figures_of_one_year(client, institution, make_handler, kdf_params):
    desk = Desk(institution, make_handler("Ana Popescu"), kdf_params)
    year = date.today().year - 1
    for day in range(1, 6):
        desk.receive(Channel.WEB, at=utc(year, 2, day, 10))
    for day in range(1, 4):
        desk.receive(Channel.SOCIAL_MEDIA, platform=Platform.FACEBOOK, at=utc(year, 3, day, 10))
    desk.receive(Channel.POST, at=utc(year, 4, 1, 10))
    for month in (1, 2, 3, 4):
        add_post(institution, date(year, month, 1), OutreachPlatform.INSTAGRAM)
    html = client.get("/transparency").get_data(as_text=True)
    assert re.search(r'<th scope="row">This portal</th><td class="num">5</td>', html)
    assert re.search(r'<th scope="row">Social media: Facebook</th><td class="num">3</td>', html)
    assert re.search(r'<th scope="row">Postal mail</th><td class="num">&lt;3</td>', html)
    # One report hidden: a zero cell is hidden with it, so 9 - 5 - 3 gives nothing away.
    assert re.search(r'<th scope="row">E-mail</th><td class="num">&lt;3</td>', html)
    assert re.search(r'<th scope="row">Total</th><td class="num">9</td>', html)
    assert re.search(r'<th scope="row">Instagram</th><td class="num">4</td>', html)
    assert "Social media</th>" not in html  # no subtotal beside the platforms


def test_without_javascript_in_romanian_by_default(app, institution):
    browser = app.test_client()
    browser.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)  # no preference: Romanian
    # A fresh context per request, as a server has (Flask-Babel caches the locale in `g`).
    page = contextvars.Context().run(browser.get, "/transparency")
    assert page.status_code == 200 and '<html lang="ro">' in page.get_data(as_text=True)
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")


@pytest.mark.parametrize("ttl, total_after", [(600, 3), (0, 4)])
def test_published_years_are_kept_for_a_while(app, client, institution, make_handler,
                                              kdf_params, ttl, total_after):
    """Anyone may open the page: a completed year's figures are computed once and kept for
    PUBLIC_STATS_CACHE_SECONDS, not recomputed on every request."""
    app.config["PUBLIC_STATS_CACHE_SECONDS"] = ttl
    desk = Desk(institution, make_handler("Ana Popescu"), kdf_params)
    year = date.today().year - 1
    for day in (1, 2, 3):
        desk.receive(Channel.WEB, at=utc(year, 5, day, 10))
    first = client.get(f"/transparency/{year}.csv").get_data(as_text=True)
    assert f",,{year},final,reports_received,total,3," in first
    desk.receive(Channel.WEB, at=utc(year, 5, 4, 10))
    again = client.get(f"/transparency/{year}.csv").get_data(as_text=True)
    assert f",,{year},final,reports_received,total,{total_after}," in again

"""No public output reveals a count under the threshold, directly or by subtraction.

The attacker here reads the published figures only: a number is exact, "<T" means 0..T-1,
"x" means anything from 0 to the total, and every breakdown adds up to its total. From that,
each hidden cell can lie anywhere in [lo, hi] (box constraints with a fixed sum); the rule
holds when no published number is between 1 and T-1 and, for every hidden cell, lo < hi.
Checked on the suppression function itself (hypothesis), on the public view of thousands of
random indicator sets, and end to end on /transparency and its open-data files built from
reports that went through the real services.
"""
import csv
import html as html_module
import io
import random
import re
from collections import OrderedDict, defaultdict
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.models import Category, Channel, Outcome, Platform, Regime, Role
from app.services.indicators import exports
from app.services.indicators.clocks import Compliance
from app.services.indicators.compute import Breakdown, Indicators, Outreach
from app.services.indicators.periods import Period
from app.services.indicators.suppression import WITHHELD, protect
from tests.support.desk import Desk, utc

CLOCK_PARTS = ("met", "met_extended", "late", "pending")


def interval(text: str, threshold: int, total: int) -> tuple[int, int]:
    if text == f"<{threshold}":
        return 0, threshold - 1
    if text == WITHHELD:
        return 0, total
    value = int(text)
    return value, value


def assert_safe(total_text: str, texts: list[str], threshold: int, where: str = "",
                truth: list[int] | None = None) -> None:
    """The published breakdown leaks no count from 1 to threshold-1."""
    for text in [total_text, *texts]:
        if re.fullmatch(r"\d+", text):
            assert not 0 < int(text) < threshold, f"{where}: {text} published"
        else:
            assert text in (f"<{threshold}", WITHHELD), f"{where}: unexpected {text!r}"
    if not re.fullmatch(r"\d+", total_text):
        assert all(not re.fullmatch(r"[1-9]\d*", text) or int(text) >= threshold
                   for text in texts), where
        return
    total = int(total_text)
    bounds = [interval(text, threshold, total) for text in texts]
    if truth is not None:
        assert sum(truth) == total
        for value, (low, high), text in zip(truth, bounds, texts, strict=True):
            assert low <= value <= high, f"{where}: {text!r} stands for {value}"
    for index, text in enumerate(texts):
        if re.fullmatch(r"\d+", text):
            continue
        others_low = sum(low for i, (low, _) in enumerate(bounds) if i != index)
        others_high = sum(high for i, (_, high) in enumerate(bounds) if i != index)
        low = max(bounds[index][0], total - others_high)
        high = min(bounds[index][1], total - others_low)
        assert low < high, f"{where}: cell {index} ({text}) is exactly {low} by subtraction"


# --- the rule itself -----------------------------------------------------------------------------

@settings(max_examples=3000, deadline=None)
@given(values=st.lists(st.integers(0, 6) | st.integers(0, 40), min_size=2, max_size=14),
       threshold=st.integers(1, 6))
def test_protect_never_reveals_a_small_count(values, threshold):
    cells = OrderedDict((f"k{i}", value) for i, value in enumerate(values))
    total, shown = protect(cells, threshold)
    assert list(shown) == list(cells)
    if threshold == 1:
        assert [s.value for s in shown.values()] == values
        return
    assert_safe(total.text, [s.text for s in shown.values()], threshold, truth=values)
    # Nothing is hidden without need: counts of at least T stay exact unless the whole
    # breakdown had to be withheld.
    if not any(s.text == WITHHELD for s in shown.values()):
        for value, s in zip(values, shown.values(), strict=True):
            if value >= threshold:
                assert s.value == value


def test_the_cases_the_secondary_rule_exists_for():
    def texts(*values, threshold=3):
        total, shown = protect(OrderedDict((str(i), v) for i, v in enumerate(values)),
                               threshold)
        return total.text, [s.text for s in shown.values()]

    # One hidden cell: a zero goes with it, so 10 - 9 no longer gives it away.
    assert texts(9, 1, 0) == ("10", ["9", "<3", "<3"])
    # Two hidden cells adding up to 4 must both be 2: a zero is hidden too.
    assert texts(2, 2, 5, 0) == ("9", ["<3", "<3", "5", "<3"])
    # Two hidden cells adding up to 3 can be 1+2 or 2+1: nothing more to hide.
    assert texts(1, 2, 6) == ("9", ["<3", "<3", "6"])
    # No zero to borrow: the breakdown is withheld, the total stays.
    assert texts(9, 1) == ("10", [WITHHELD, WITHHELD])
    # A total under the threshold hides everything.
    assert texts(2, 0, 0) == ("<3", ["<3", "<3", "<3"])
    assert texts(0, 0) == ("0", ["0", "0"])


# --- the public view of random indicator sets ---------------------------------------------------

def breakdown(name, keys, rng, spread) -> Breakdown:
    return Breakdown(name, OrderedDict((key, rng.choice(spread)) for key in keys))


def partition(name, keys, total, rng) -> Breakdown:
    values = OrderedDict((key, 0) for key in keys)
    for _ in range(total):
        values[rng.choice(keys)] += 1
    return Breakdown(name, values)


def random_indicators(rng: random.Random) -> Indicators:
    period = Period.year(2025)
    channels = [c.value for c in Channel]
    platforms = [p.value for p in Platform]
    leaf_keys = [c for c in channels if c != "social_media"] + [f"s/{p}" for p in platforms]
    total = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20, 40])
    leaves = partition("leaves", leaf_keys, total, rng).cells
    by_platform = Breakdown("by_platform", OrderedDict((p, leaves[f"s/{p}"]) for p in platforms))
    by_channel = Breakdown("by_channel", OrderedDict(
        (c, by_platform.total if c == "social_media" else leaves[c]) for c in channels))

    def clock(name, parts):
        # 2025 is over: nothing of it is still "not yet due".
        cells = partition(name, [p for p in parts if p != "pending"],
                          rng.choice([0, 1, 2, 3, 4, 5, 8, 15]), rng).cells
        cells["pending"] = 0
        done = cells["met"] + cells.get("met_extended", 0) + cells["late"]
        return Compliance(name, cells, rng.choice([None, 3.5]), done)

    months = [key for key, _, _ in period.months()]
    return Indicators(
        institution_id=1, period=period, generated_at=datetime.now(UTC), received=total,
        by_channel=by_channel, by_platform=by_platform,
        by_category=partition("c", [c.value for c in Category], total, rng),
        by_regime=partition("r", [r.value for r in Regime] + ["untriaged"], total, rng),
        by_status=partition("s", ["received", "closed"], total, rng),
        by_outcome=partition("o", [o.value for o in Outcome] + ["not_concluded"], total, rng),
        by_anonymity=partition("a", ["anonymous", "identified"], total, rng),
        by_origin=partition("w", ["web", "recorded_by_staff"], total, rng),
        by_month=partition("m", months, total, rng),
        acknowledgement=clock("acknowledgement_7_days", ["met", "late", "pending"]),
        feedback=clock("feedback_3_months", ["met", "late", "pending"]),
        answer=clock("petition_answer_30_45_days", list(CLOCK_PARTS)),
        forwarding=clock("forward_5_days", ["met", "late", "pending"]),
        overdue_now=Breakdown("overdue_now", OrderedDict(acknowledge=1)),
        outreach=Outreach(breakdown("p", ["facebook", "website"], rng, [0, 1, 2]), 0, 1, 2,
                          breakdown("a", ["facebook"], rng, [0, 1])))


def check_rows(rows: list[tuple[str, str, str, str]], threshold: int, where: str) -> int:
    """Every breakdown in open-data rows, against its total. Returns how many were checked."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for _, indicator, dimension, value in rows:
        groups[indicator].append((dimension, value))
    received = dict(groups["reports_received"])["total"]
    checked = 0
    for indicator, items in groups.items():
        if indicator.startswith("reports_by_"):
            assert_safe(received, [value for _, value in items], threshold,
                        f"{where} {indicator}")
            checked += 1
        elif indicator in ("acknowledgement_7_days", "feedback_3_months",
                           "petition_answer_30_45_days", "forward_5_days"):
            values = dict(items)
            parts = [values[key] for key in CLOCK_PARTS if key in values]
            assert_safe(values["due"], parts, threshold, f"{where} {indicator}")
            hidden = any(not re.fullmatch(r"\d+", values[key])
                         for key in ("met", "met_extended", "late") if key in values)
            if hidden:
                assert values["share_met_percent"] == "", f"{where} {indicator} share"
            assert "pending" not in values, f"{where} {indicator}: a structural zero"
            checked += 1
    assert "social_media" not in dict(groups["reports_by_channel"])  # no subtotal
    assert not {"reports_by_status", "reports_by_regime", "reports_by_origin"} & set(groups)
    return checked


@pytest.mark.parametrize("threshold", [2, 3, 5])
def test_random_indicator_sets_publish_nothing_recoverable(threshold):
    rng = random.Random(20250 + threshold)
    for run in range(400):
        indicators = random_indicators(rng)
        rows = exports.rows(exports.public_view(indicators, threshold))
        assert check_rows(rows, threshold, f"run {run}") == 9


# --- end to end: /transparency and its files ---------------------------------------------------

def build_random_year(desk, rng: random.Random, count: int) -> None:
    """`count` reports of 2025 through the real services, over random channels, categories
    and identities, some of them triaged and closed with random outcomes."""
    channels = [c for c in Channel if c is not Channel.SOCIAL_MEDIA]
    for index in range(count):
        channel = rng.choice(channels + [Channel.SOCIAL_MEDIA])
        platform = rng.choice(list(Platform)) if channel is Channel.SOCIAL_MEDIA else None
        case = desk.receive(channel, platform=platform, category=rng.choice(list(Category)),
                            anonymous=rng.random() < .6)
        fate = rng.random()
        if fate < .5:
            desk.triage(case, rng.choice([Regime.WHISTLEBLOWER, Regime.PETITION]))
            if fate < .25:
                desk.close(case, rng.choice([Outcome.SUBSTANTIATED, Outcome.DISMISSED,
                                             Outcome.UNSUBSTANTIATED]))
        elif fate < .6:
            desk.forward(case)
        desk.place(case, utc(2025, 1 + index % 12, 1 + rng.randrange(27), 10))


def csv_rows(text: str) -> list[tuple[str, str, str, str]]:
    """The open-data CSV as (period, indicator, dimension, text): a suppressed value can be
    anything as far as the file tells ("x"); a share not published is empty."""
    records = list(csv.DictReader(io.StringIO(text)))
    assert list(records[0]) == list(exports.CSV_COLUMNS)
    out = []
    for row in records:
        if row["flag"] == "suppressed":
            assert row["value"] == ""
            text = WITHHELD
        else:
            text = row["value"]
        out.append((row["period"], row["indicator"], row["dimension"], text))
    return out


def html_tables(html: str) -> dict[str, list[tuple[str, list[str]]]]:
    tables = {}
    for table_id, body in re.findall(r'<table class="figures" id="([a-z]+)">(.*?)</table>',
                                     html, re.S):
        rows = []
        for label, cells in re.findall(r'<th scope="row">([^<]*)</th>((?:<td[^>]*>[^<]*</td>)+)',
                                       body):
            rows.append((html_module.unescape(label), [
                html_module.unescape(text) for text in re.findall(r"<td[^>]*>([^<]*)</td>",
                                                                   cells)]))
        tables[table_id] = rows
    return tables


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_transparency_page_and_open_data_reveal_nothing(client, institution, make_handler,
                                                        kdf_params, seed):
    desk = Desk(institution, make_handler("Ana Popescu"), kdf_params)
    rng = random.Random(seed)
    build_random_year(desk, rng, rng.choice([4, 7, 11]))

    data = client.get("/transparency/2025.csv")
    assert data.status_code == 200 and data.mimetype == "text/csv"
    rows = [("header",)] + csv_rows(data.get_data(as_text=True))
    assert check_rows(rows[1:], 3, f"seed {seed} csv") == 9
    document = client.get("/transparency/2025.json").json
    assert [(item["period"], item["indicator"], item["dimension"],
             WITHHELD if item["flag"] == "suppressed" else exports._number(item["value"]))
            for item in document["data"]] == rows[1:]
    assert document["metadata"]["suppression_threshold"] == 3
    assert client.get("/transparency/2025-metadata.json").json["period"] == "2025"

    page = client.get("/transparency")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert len(page.data) < 30_000
    assert "<script" not in html and 'style="' not in html
    tables = html_tables(html)
    received = tables["received"][0][1][0]
    values = dict((dimension, value) for _, indicator, dimension, value in rows[1:]
                  if indicator == "reports_by_channel")
    assert [texts[0] if texts[0].isdigit() else WITHHELD
            for _, texts in tables["channels"]] == list(values.values())
    assert_safe(received, [texts[0] for _, texts in tables["channels"]], 3, "page channels")
    assert_safe(received, [texts[0] for _, texts in tables["outcomes"]], 3, "page outcomes")


def test_a_total_under_the_threshold_hides_every_cell(client, institution, make_handler,
                                                      kdf_params):
    desk = Desk(institution, make_handler("Ana Popescu"), kdf_params)
    desk.receive(Channel.PHONE, at=utc(2025, 6, 1, 10))
    desk.receive(Channel.PHONE, at=utc(2025, 6, 2, 10))
    text = client.get("/transparency/2025.csv").get_data(as_text=True)
    assert ",,2025,final,reports_received,total,,suppressed" in text
    assert ",,2025,final,reports_by_channel,phone,,suppressed" in text
    # even zeros, as every cell is under 3
    assert ",,2025,final,reports_by_channel,web,,suppressed" in text
    assert not re.search(r"^,,2025,final,reports_by_\w+,[^,]+,[12],", text, re.M)


@pytest.mark.parametrize("app_config", [{"SUPPRESSION_THRESHOLD": 5}], indirect=True)
def test_the_threshold_is_a_setting(client, institution, make_handler, kdf_params):
    desk = Desk(institution, make_handler("Ana Popescu"), kdf_params)
    for day in range(1, 5):
        desk.receive(Channel.WEB, at=utc(2025, 3, day, 10))
    for day in range(1, 7):
        desk.receive(Channel.EMAIL, at=utc(2025, 4, day, 10))
    text = client.get("/transparency/2025.csv").get_data(as_text=True)
    assert ",,2025,final,reports_received,total,10," in text
    assert ",,2025,final,reports_by_channel,web,,suppressed" in text
    assert ",,2025,final,reports_by_channel,email,6," in text
    check_rows(csv_rows(text), 5, "threshold 5")


def test_the_current_year_is_not_published_until_it_ends(client, institution, make_handler,
                                                         kdf_params):
    desk = Desk(institution, make_handler("Ana Popescu"), kdf_params)
    desk.receive(Channel.WEB)  # today
    this_year = date.today().year
    assert client.get(f"/transparency/{this_year}.csv").status_code == 404
    assert client.get("/transparency/2019.csv").status_code == 404
    page = client.get("/transparency").get_data(as_text=True)
    assert "There are no figures yet" in page
    assert "/transparency" in client.get("/").get_data(as_text=True)  # linked from the menu
    assert Role  # the coordinator is not needed to read the public page

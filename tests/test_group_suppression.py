"""Suppression across institutions (group_public.py): no commune's hidden count can be worked
out by subtraction from what is published — each commune's own table and the group's figures.

Proof by exhaustion over small universes: every table of k institutions × c cells with
counts 0..max is published (each institution's breakdown through suppression.protect, the
group's figures through group_public), then everything arithmetic allows is enumerated: each
hidden cell anywhere in 0..T-1 ("<T") or 0..the row's total ("x"), each row adding up to its
published total (1..T-1 when the total is "<T"), each group figure between its published low
and high. Every hidden cell must keep at least two possible values. The same enumeration with
exact group totals (the naive alternative) finds pinned cells, so the check can fail.
"""
import itertools
from collections import OrderedDict

import pytest

from app.services.indicators.group_public import GroupFigure, _add
from app.services.indicators.suppression import WITHHELD, protect

KEYS = ("web", "email", "phone")


def _row_options(total, cells, threshold):
    """Every completion of one published row that its own figures allow."""
    ranges = []
    for cell in cells.values():
        if not cell.hidden:
            ranges.append((cell.value,))
        elif cell.text == WITHHELD:
            ranges.append(tuple(range(0, (total.value or 0) + 1)))
        else:
            ranges.append(tuple(range(0, threshold)))
    sums = (total.value,) if not total.hidden else tuple(range(1, threshold))
    return [values for values in itertools.product(*ranges) if sum(values) in sums]


def pinned_cells(institutions: int, cells: int, largest: int, threshold: int,
                 exact_totals=False) -> list:
    keys = KEYS[:cells]
    found = []
    for flat in itertools.product(range(largest + 1), repeat=institutions * cells):
        table = [flat[i * cells:(i + 1) * cells] for i in range(institutions)]
        views = [protect(OrderedDict(zip(keys, row, strict=True)), threshold) for row in table]
        if exact_totals:
            bounds = [(sum(row[c] for row in table),) * 2 for c in range(cells)]
        else:
            figures = [_add([(view[1][key], threshold) for view in views]) for key in keys]
            bounds = [(figure.low, figure.high) for figure in figures]
        options = [_row_options(total, published, threshold) for total, published in views]
        possible = [[set() for _ in range(cells)] for _ in range(institutions)]
        for completion in itertools.product(*options):
            if all(low <= sum(row[c] for row in completion) <= (high if high is not None
                                                                   else 10 ** 9)
                   for c, (low, high) in enumerate(bounds)):
                for i, row in enumerate(completion):
                    for c, value in enumerate(row):
                        possible[i][c].add(value)
        for i, (_, published) in enumerate(views):
            for c, key in enumerate(keys):
                if published[key].hidden and len(possible[i][c]) < 2:
                    found.append((tuple(table), i, key))
    return found


@pytest.mark.parametrize(("institutions", "cells", "largest", "threshold"), [
    (2, 3, 3, 3),   # 4,096 tables: two communes, three channels
    (3, 2, 3, 3),   # 4,096 tables: three communes, two channels
    (2, 2, 6, 4),   # 2,401 tables, a higher threshold
])
def test_no_hidden_count_is_recoverable_from_the_group_and_the_communes(
        institutions, cells, largest, threshold):
    assert pinned_cells(institutions, cells, largest, threshold) == []


def test_exact_group_totals_would_give_small_counts_back():
    """The check bites: with exact totals, a commune's hidden count is recovered, e.g. a
    county of two communes where only one hides its e-mail count."""
    pinned = pinned_cells(2, 2, 3, 3, exact_totals=True)
    assert (((3, 0), (2, 1)), 1, "email") in pinned


def test_group_figure_is_a_range_stating_its_hidden_parts():
    total, cells = protect(OrderedDict([("web", 5), ("email", 1), ("phone", 0)]), 3)
    figure = _add([(cells["email"], 3), (protect(OrderedDict(web=4, email=0, phone=0), 3)[1][
        "email"], 3)])
    assert figure == GroupFigure(low=0, high=2, hidden=1) and figure.text == "0–2"
    withheld = protect(OrderedDict([("web", 2), ("email", 2)]), 3)[1]  # both 2: withheld
    assert withheld["web"].text == "x"
    assert _add([(withheld["web"], 3), (total, 3)]).text == "≥6"

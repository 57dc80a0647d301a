"""Small-count suppression for everything the public sees (transparency page, open data).

A commune receives few reports; "1 report by phone in March" can point at a person. So in
public outputs, with T the threshold (default 3):

1. A count from 1 to T-1 is shown as "<T". "<T" means "fewer than T", which includes 0.
   Zeros are otherwise shown as 0: they describe nobody.
2. Each breakdown (channel, outcome, month, …) splits a total that is published elsewhere
   anyway (the reports received). Subtraction could then give a hidden cell back exactly when
   (a) only one cell is hidden, or (b) every hidden cell is T-1 (with T=3, two hidden cells
   that must add up to 4 are both 2). In those cases one zero cell of the same breakdown is
   also shown as "<T" — truthful, since 0 < T — after which the hidden cells could each be 0
   and no longer add up to a single solution. When the breakdown has no zero cell to use,
   the whole breakdown is withheld (every cell "x"), leaving only its total.
3. When the total itself is below T, the total is "<T" and so is every cell of its
   breakdowns (all of them are below T too).
4. A share (percentage) is published only when none of the cells it is computed from is
   hidden; a median only when it is taken over at least T cases.
5. Breakdowns that share a subtotal would let one be subtracted from the other, so public
   outputs never pair them: social media is published per platform only (no social media
   subtotal), and neither status, regime nor "web vs recorded by staff" is published (they
   repeat the outcome's "not concluded" cell, the outcome "forwarded" and the web channel).

Why this is sound: after rule 2 a breakdown with hidden cells has at least two of them, each
known only to lie in 0..T-1, and their sum S is below the most they could add up to, so every
hidden cell can take at least two values consistent with the published figures. The tests
check exactly that over many random data sets (tests/test_stats_suppression.py).

Limits: the guarantee is about arithmetic on one publication. Publishing overlapping periods
(a year and one of its quarters) or snapshots taken at different dates lets differences be
computed; the public outputs therefore cover whole completed years only.
"""
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app

WITHHELD = "x"
DEFAULT_THRESHOLD = 3


def threshold_for(institution=None) -> int:
    """The institution's own setting when it has one, else SUPPRESSION_THRESHOLD (default 3);
    never below 1 (1 turns suppression off, which only an explicit setting may do)."""
    value = getattr(institution, "suppression_threshold", None)
    if value is None:
        value = current_app.config.get("SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD)
    return max(1, int(value))


def below(threshold: int) -> str:
    return f"<{threshold}"


@dataclass(frozen=True)
class Shown:
    """A figure as published: the text, and the exact number when it is shown as is."""

    text: str
    value: int | None

    @property
    def hidden(self) -> bool:
        return self.value is None


def shown(value: int, threshold: int) -> Shown:
    """A count on its own (primary suppression only)."""
    if 0 < value < threshold:
        return Shown(below(threshold), None)
    return Shown(str(value), value)


def _pinned(hidden_values: list[int], threshold: int) -> bool:
    """Could the hidden cells be worked out from the total and the published cells?"""
    return len(hidden_values) == 1 or sum(hidden_values) == len(hidden_values) * (threshold - 1)


def protect(cells: "OrderedDict[str, int]", threshold: int) -> tuple[Shown, "OrderedDict[str, Shown]"]:
    """The total and the cells of one breakdown as they may be published (rules 1–3)."""
    total = sum(cells.values())
    if threshold <= 1:
        return Shown(str(total), total), OrderedDict(
            (key, Shown(str(value), value)) for key, value in cells.items())
    if 0 < total < threshold:
        return Shown(below(threshold), None), OrderedDict(
            (key, Shown(below(threshold), None)) for key in cells)
    hidden = [key for key, value in cells.items() if 0 < value < threshold]
    if hidden and _pinned([cells[key] for key in hidden], threshold):
        zero = next((key for key, value in cells.items() if value == 0), None)
        if zero is None:
            return Shown(str(total), total), OrderedDict(
                (key, Shown(WITHHELD, None)) for key in cells)
        hidden.append(zero)
    published = OrderedDict()
    for key, value in cells.items():
        published[key] = Shown(below(threshold), None) if key in hidden \
            else Shown(str(value), value)
    return Shown(str(total), total), published


def share(met: Shown, late: Shown, *extra: Shown) -> float | None:
    """Met / (met + late) in percent, or None when any part is hidden (rule 4)."""
    parts = (met, late, *extra)
    counts = [part.value for part in parts if part.value is not None]
    if len(counts) < len(parts):  # a part is hidden
        return None
    done = counts[0] + sum(counts[2:])
    decided = done + counts[1]
    return round(100 * done / decided, 1) if decided else None


def median(value: float | None, measured: int, threshold: int) -> float | None:
    return value if value is not None and measured >= max(threshold, 1) else None

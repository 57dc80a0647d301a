"""Charts drawn on the server as SVG geometry (no JavaScript, nothing from elsewhere).

Only numbers and positions are computed here; templates/stats/_charts.html writes the SVG with
presentation attributes and CSS classes from staff.css (the CSP forbids inline styles). Every
chart carries a title and a description, and the page shows the same numbers in a table.
"""
from dataclasses import dataclass, field

LABEL_WIDTH = 190
BAR_AREA = 300
ROW = 22
CHART_WIDTH = LABEL_WIDTH + BAR_AREA + 60


@dataclass
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    css: str = "bar"
    pattern: str | None = None  # id of an SVG pattern laid over the colour


@dataclass
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    # (text, x, y, anchor) for axis and bar labels
    texts: list[tuple[str, float, float, str]] = field(default_factory=list)
    legend: list[tuple[str, str, str | None]] = field(default_factory=list)  # css, text, pattern
    patterns: list[tuple[str, str]] = field(default_factory=list)  # (id, "hatch" | "dots")
    part_labels: list[tuple[str, float, float]] = field(default_factory=list)  # in the bars


def _scale(largest: int, room: float) -> float:
    return room / largest if largest else 0.0


def horizontal_bars(chart_id: str, title, description, items: list[tuple[str, int]]) -> Chart:
    """One bar per item, labels on the left, values at the end of each bar."""
    scale = _scale(max((value for _, value in items), default=0), BAR_AREA)
    chart = Chart(chart_id, str(title), str(description), CHART_WIDTH, ROW * len(items) + 8)
    for row, (label, value) in enumerate(items):
        y = 4 + row * ROW
        width = value * scale
        chart.bars.append(Bar(str(label), value, LABEL_WIDTH, y + 3, width, ROW - 6))
        chart.texts.append((str(label), LABEL_WIDTH - 6, y + ROW / 2 + 4, "end"))
        chart.texts.append((str(value), LABEL_WIDTH + width + 4, y + ROW / 2 + 4, "start"))
    return chart


def columns(chart_id: str, title, description, items: list[tuple[str, int]]) -> Chart:
    """A column per item (months), value above each column, label below."""
    height, top, bottom = 150, 18, 22
    step = max(14.0, min(44.0, 520 / max(len(items), 1)))
    scale = _scale(max((value for _, value in items), default=0), height)
    chart = Chart(chart_id, str(title), str(description), int(step * len(items) + 20),
                  top + height + bottom)
    for index, (label, value) in enumerate(items):
        x = 10 + index * step
        column_height = value * scale
        chart.bars.append(Bar(str(label), value, x + 2, top + height - column_height,
                              step - 4, column_height))
        middle = x + step / 2
        chart.texts.append((str(value), middle, top + height - column_height - 4, "middle"))
        chart.texts.append((str(label), middle, top + height + 15, "middle"))
    return chart


# Parts of a stacked bar are told apart by a pattern as well as by colour (met: plain,
# met within the extension: dots, late: diagonal hatching, not yet due: dots).
PART_PATTERNS = {"met-extended": "dots", "late": "hatch", "pending": "dots"}
MIN_INSIDE = 18  # a part narrower than this has its count only in the line under the bar


def stacked(chart_id: str, title, description,
            rows: list[tuple[str, list[tuple[str, int, str]]]],
            legend: list[tuple[str, str]]) -> Chart:
    """One bar per row split into parts (label, value, css), each part as a share of the
    row, with its count written inside when there is room and, for every part, in a line of
    counts under the bar: the figures do not depend on telling colours apart."""
    line = ROW * 3
    patterns = {css: f"{chart_id}-{css}" for css in PART_PATTERNS}
    chart = Chart(chart_id, str(title), str(description), CHART_WIDTH,
                  line * len(rows) + 8,
                  legend=[(css, str(text), patterns.get(css)) for css, text in legend],
                  patterns=[(pattern_id, PART_PATTERNS[css])
                            for css, pattern_id in patterns.items()])
    for index, (label, parts) in enumerate(rows):
        y = 4 + index * line
        chart.texts.append((str(label), 0, y + 12, "start"))
        total = sum(value for _, value, _ in parts)
        scale = _scale(total, BAR_AREA + LABEL_WIDTH - 10)
        x = 0.0
        for part_label, value, css in parts:
            width = value * scale
            if width:
                chart.bars.append(Bar(str(part_label), value, x, y + 17, width, ROW - 6, css,
                                      patterns.get(css)))
                if width >= MIN_INSIDE:
                    chart.part_labels.append((str(value), x + width / 2, y + 29))
            x += width
        if total:
            counts = " · ".join(f"{part_label}: {value}" for part_label, value, _ in parts
                                if value)
            chart.texts.append((counts, 0, y + 50, "start"))
        else:
            chart.texts.append(("—", 0, y + 31, "start"))
    return chart

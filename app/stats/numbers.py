"""Numbers as the reader writes them, through Babel: "100,0 %" and "1,8 kB" in Romanian,
"100.0 %" and "1.8 kB" in English. Registered as template filters for every page
(`percent`, `decimal`, and `filesizeformat`, which replaces Jinja's English-only one)."""
from flask_babel import format_decimal, format_percent

NO_FIGURE = "—"
_UNITS = ("kB", "MB", "GB", "TB")


def percent(value: float | None) -> str:
    """A share given in percent (66.7 for two thirds), one decimal; a dash when None."""
    if value is None:
        return NO_FIGURE
    return format_percent(value / 100, "#,##0.0\u00a0%")


def decimal(value: float | None, digits: int = 1, signed: bool = False) -> str:
    """A number with `digits` decimals; signed: "+2,5" or "-2,5" (a change)."""
    if value is None:
        return NO_FIGURE
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    if signed:
        pattern = f"+{pattern};-{pattern}"
    return format_decimal(value, pattern)


def file_size(size: int | float, binary: bool = False) -> str:
    """Like Jinja's filesizeformat (decimal kB/MB by default), with the locale's digits."""
    base = 1024 if binary else 1000
    size = float(size)
    if size < base:
        return f"{format_decimal(int(size), '#,##0')}\u00a0B"
    for index, unit in enumerate(_UNITS):
        scaled = size / base ** (index + 1)
        if scaled < base or unit == _UNITS[-1]:
            return f"{format_decimal(scaled, '#,##0.0')}\u00a0{unit}"
    raise AssertionError("unreachable")

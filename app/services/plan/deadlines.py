"""Deadlines as the plan writes them, turned into dates the workspace can track.

- a date, "31 martie 2022": due that day;
- a month, "Aprilie 2022": due on its last day;
- "Anual" (and "Permanent", "Trimestrial", "Semestrial"): recurring; a permanent measure is
  accounted for in each year's evaluation (measure 1.7), so it is due on 31 December of every
  year, a quarterly one at each quarter's end;
- "La 2 ani" / "La N ani": every N years counted from the plan's adoption year (measure 4.3's
  internal audit: 2023, 2025, …), on 31 December;
- nothing written (the seed's objective 2 has no deadline column): no due date.

A text the parser does not know is kept as written and has no due date; the workspace says so
rather than guessing."""
import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

MONTHS = {name: number for number, name in enumerate(
    ("ianuarie", "februarie", "martie", "aprilie", "mai", "iunie", "iulie", "august",
     "septembrie", "octombrie", "noiembrie", "decembrie"), start=1)}

ONCE, YEARLY, QUARTERLY, HALF_YEARLY, EVERY_N_YEARS, NONE, UNKNOWN = (
    "once", "yearly", "quarterly", "half_yearly", "every_n_years", "none", "unknown")


@dataclass(frozen=True)
class Deadline:
    written: str | None
    kind: str
    day: date | None = None  # ONCE
    every: int = 1  # EVERY_N_YEARS
    permanent: bool = False

    @property
    def recurring(self) -> bool:
        return self.kind in (YEARLY, QUARTERLY, HALF_YEARLY, EVERY_N_YEARS)

    def due_dates(self, year: int, first_year: int | None = None) -> list[date]:
        """The due dates falling in `year`; `first_year` anchors "La N ani"."""
        if self.kind == ONCE:
            return [self.day] if self.day.year == year else []
        if self.kind == YEARLY:
            return [date(year, 12, 31)]
        if self.kind == QUARTERLY:
            return [_month_end(year, month) for month in (3, 6, 9, 12)]
        if self.kind == HALF_YEARLY:
            return [date(year, 6, 30), date(year, 12, 31)]
        if self.kind == EVERY_N_YEARS:
            start = first_year if first_year is not None else year
            return [date(year, 12, 31)] if year >= start and (year - start) % self.every == 0 \
                else []
        return []


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _plain(text: str) -> str:
    """Lower case, without diacritics (ș and ş alike), single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s+([a-z]+)\s+(\d{4})$")
_NUMERIC = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_MONTH_YEAR = re.compile(r"^([a-z]+)\s+(\d{4})$")
_EVERY = re.compile(r"^(?:la|o data la)\s+(\d+|doi|trei)\s+ani$")
_WORDS = {"doi": 2, "trei": 3}


def parse(written: str | None) -> Deadline:
    if written is None or not written.strip():
        return Deadline(written, NONE)
    text = _plain(written).rstrip(".")
    if text in ("permanent", "permanenta", "continuu"):
        return Deadline(written, YEARLY, permanent=True)
    if text in ("anual", "anuala", "in fiecare an"):
        return Deadline(written, YEARLY)
    if text in ("trimestrial", "trimestriala"):
        return Deadline(written, QUARTERLY)
    if text in ("semestrial", "semestriala"):
        return Deadline(written, HALF_YEARLY)
    if match := _EVERY.match(text):
        count = match.group(1)
        every = _WORDS.get(count) or int(count)
        return Deadline(written, EVERY_N_YEARS, every=max(every, 1))
    try:
        if match := _DAY_MONTH_YEAR.match(text):
            if match.group(2) in MONTHS:
                return Deadline(written, ONCE, day=date(int(match.group(3)),
                                                        MONTHS[match.group(2)],
                                                        int(match.group(1))))
        if match := _NUMERIC.match(text):
            return Deadline(written, ONCE, day=date(int(match.group(3)), int(match.group(2)),
                                                    int(match.group(1))))
        if (match := _MONTH_YEAR.match(text)) and match.group(1) in MONTHS:
            return Deadline(written, ONCE, day=_month_end(int(match.group(2)),
                                                          MONTHS[match.group(1)]))
    except ValueError:  # "31 februarie 2022"
        pass
    return Deadline(written, UNKNOWN)

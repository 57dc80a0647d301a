"""The register of reports as a document: one table row per report, in Romanian whatever the
page's language (it is the institution's legal record). The rows come from
services/papers/register.py; labels are the portal's own, translated to Romanian here."""
from flask_babel import force_locale

from ..labels import CATEGORY, CHANNEL, OUTCOME, STATUS
from ..models import Outcome
from ..services.indicators.periods import Period
from ..services.papers.register import RegisterRow, reporter_cell
from .model import Document

HEADERS = ("Nr. crt.", "Nr. de înregistrare", "Data primirii", "Canal", "Obiect",
           "Sesizant (nume, contact)", "Mod de soluționare", "Data soluționării")
WIDTHS = (1, 2.4, 2, 2, 2.6, 3.6, 3.4, 2)


def _day(value) -> str:
    return value.strftime("%d.%m.%Y") if value else "—"


def resolution(row: RegisterRow) -> str:
    if row.outcome is Outcome.FORWARDED:
        return f"Transmisă către {row.forwarded_to}" if row.forwarded_to else str(
            OUTCOME[Outcome.FORWARDED])
    if row.outcome is not None:
        return str(OUTCOME[row.outcome])
    return f"În curs ({str(STATUS[row.status]).lower()})"


def register_cells(number: int, row: RegisterRow) -> tuple[str, ...]:
    return (str(number), row.reference, _day(row.received_on), str(CHANNEL[row.channel]),
            str(CATEGORY[row.category]), reporter_cell(row), resolution(row),
            _day(row.resolved_on))


def register_table(rows: list[RegisterRow]) -> list[tuple[str, ...]]:
    """The cells of each row in Romanian (also for the printable page)."""
    with force_locale("ro"):
        return [register_cells(n, row) for n, row in enumerate(rows, start=1)]


def register_document(institution_name: str, period: Period, rows: list[RegisterRow],
                      produced_by: str) -> Document:
    document = Document("Registrul de evidență a sesizărilor",
                        f"{institution_name} · perioada {_day(period.first_day)} – "
                        f"{_day(period.last_day)}", landscape=True)
    document.key_values([
        ("Temei", "Legea nr. 361/2022 privind protecția avertizorilor în interes public; "
                  "OG nr. 27/2002 privind reglementarea activității de soluționare a "
                  "petițiilor"),
        ("Sesizări înregistrate", str(len(rows))),
        ("Întocmit de", produced_by),
    ])
    document.table(HEADERS, register_table(rows), WIDTHS)
    document.paragraph("Document cu date cu caracter personal: se păstrează și se transmite "
                       "numai persoanelor desemnate.")
    return document

"""The annual evaluation of the integrity plan (measure 1.7): the report the coordinator
checks on a page and sends to the ministry (MDLPA) as DOCX or PDF, with the indicators as
CSV. The plan workspace fills `AnnualEvaluation`; this module only lays it out.

A value the portal computed from its own records is marked "calculat de portal" with its
source, so the reader tells it from one typed by the person responsible."""
import csv
from dataclasses import dataclass
from io import StringIO

from .model import Document
from .to_docx import render_docx
from .to_pdf import render_pdf

COMPUTED = "calculat de portal"
TYPED = "introdus de responsabil"
NOTHING = "—"


@dataclass(frozen=True)
class IndicatorValue:
    label: str
    value: str
    computed: bool
    source: str | None


@dataclass(frozen=True)
class MeasureEvaluation:
    code: str
    objective: str
    text: str
    status_label: str
    reason: str | None
    indicators: list[IndicatorValue]
    evidence: list[str]
    progress: list[str]


@dataclass(frozen=True)
class AnnualEvaluation:
    institution: str
    year: int
    plan_title: str
    measures: list[MeasureEvaluation]
    implemented: int
    total: int
    degree_percent: float
    degree_method: str
    introduced_or_revised: list[str]
    new_risks: list[str]


def _percent(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + " %"


def _origin(indicator: IndicatorValue) -> str:
    if not indicator.computed:
        return TYPED
    return f"{COMPUTED} ({indicator.source})" if indicator.source else COMPUTED


def evaluation_document(e: AnnualEvaluation) -> Document:
    document = Document(f"Raport de evaluare a implementării planului de integritate — {e.year}",
                        f"{e.institution} · {e.plan_title}")
    document.heading("Gradul de implementare a planului")
    document.key_values([
        ("Măsuri implementate", f"{e.implemented} din {e.total}"),
        ("Grad de implementare", _percent(e.degree_percent)),
        ("Mod de calcul", e.degree_method),
    ])
    document.table(["Cod", "Măsura", "Stadiu"],
                   [(m.code, m.text, m.status_label) for m in e.measures], (1, 7, 2.5))
    objective = None
    for measure in e.measures:
        if measure.objective != objective:
            objective = measure.objective
            document.heading(objective)
        document.heading(f"Măsura {measure.code}. {measure.text}", level=2)
        lines = [("Stadiu", measure.status_label)]
        if measure.reason:
            lines.append(("Motiv", measure.reason))
        document.key_values(lines)
        if measure.indicators:
            document.table(["Indicator", "Valoare", "Proveniență"],
                           [(i.label, i.value, _origin(i)) for i in measure.indicators],
                           (4, 2, 3))
        document.key_values([
            ("Surse de verificare", "; ".join(measure.evidence) or NOTHING),
            ("Progres", "; ".join(measure.progress) or NOTHING),
        ])
    document.heading("Măsuri noi introduse sau revizuite")
    document.paragraph("\n".join(e.introduced_or_revised) or NOTHING)
    document.heading("Riscuri și vulnerabilități nou identificate")
    document.paragraph("\n".join(e.new_risks) or NOTHING)
    return document


def evaluation_docx(e: AnnualEvaluation) -> bytes:
    return render_docx(evaluation_document(e))


def evaluation_pdf(e: AnnualEvaluation) -> bytes:
    return render_pdf(evaluation_document(e))


CSV_HEADERS = ("an", "cod_masura", "masura", "stadiu", "indicator", "valoare",
               "calculat_de_portal", "sursa")


def evaluation_csv(e: AnnualEvaluation) -> str:
    """One row per indicator value (a measure without indicators still gets a row, so the
    file lists every measure). Values that start like a formula are quoted with a leading
    apostrophe so a spreadsheet shows them as text."""
    buffer = StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for m in e.measures:
        for i in m.indicators or [None]:
            writer.writerow([_cell(v) for v in (
                e.year, m.code, m.text, m.status_label,
                i.label if i else "", i.value if i else "",
                ("da" if i.computed else "nu") if i else "", (i.source or "") if i else "")])
    return buffer.getvalue()


def _cell(value) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

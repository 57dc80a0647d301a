"""The remediation report ("Anexa C", measure 1.6) as a document for app.documents. Written in
Romanian whatever the page's language: it goes to the institution's working group and, with
the evaluation, to the ministry. Nothing from cases is in it."""
from flask_babel import force_locale, format_date

from ..documents.model import Document
from ..labels import CATEGORY
from ..models import RiskStatus
from ..services.indicators.periods import Period
from ..services.risks.register import measure_codes
from ..services.risks.scoring import HIGH_MIN, LOW_MAX, MEDIUM_MAX, risk_class, score
from .labels import CLASS, STATUS


def _day(value) -> str:
    return format_date(value, "dd.MM.yyyy") if value else "—"


def remediation_document(institution_name: str, period: Period, risks) -> Document:
    with force_locale("ro"):
        return _build(institution_name, period, risks)


def _build(institution_name: str, period: Period, risks) -> Document:
    remedied = [r for r in risks if r.status is RiskStatus.REMEDIATED
                and r.remediated_on and period.first_day <= r.remediated_on <= period.last_day]
    with_measures = [r for r in risks if r.prevention]
    document = Document(
        "Raport privind măsurile de remediere a vulnerabilităților (Anexa C)",
        f"{institution_name} · perioada {_day(period.first_day)} – {_day(period.last_day)}")
    document.key_values([
        ("Riscuri și vulnerabilități identificate și evaluate", str(len(risks))),
        ("Riscuri cu măsuri de prevenire stabilite", str(len(with_measures))),
        ("Vulnerabilități remediate în perioadă", str(len(remedied))),
        ("Evaluare", f"probabilitate × impact, fiecare pe scala 1–5 (HG nr. 599/2018); "
                     f"scăzut 1–{LOW_MAX}, mediu {LOW_MAX + 1}–{MEDIUM_MAX}, "
                     f"ridicat {HIGH_MIN}–25"),
    ])
    document.table(
        ["Nr.", "Activitate / proces", "Riscul", "Scor (clasă)", "Stadiu"],
        [(str(n), r.activity, r.description, _score(r), str(STATUS[r.status]))
         for n, r in enumerate(risks, start=1)], (1, 3, 6, 2.2, 2.3))
    for n, risk in enumerate(risks, start=1):
        document.heading(f"{n}. {risk.activity}", level=2)
        document.key_values([
            ("Riscul", risk.description),
            ("Domeniu", str(CATEGORY[risk.area]) if risk.area else "—"),
            ("Cauze", risk.causes or "—"),
            ("Probabilitate × impact", f"{risk.probability} × {risk.impact} = {_score(risk)}"),
            ("Responsabil", risk.owner),
            ("Măsuri de prevenire", risk.prevention or "—"),
            ("Măsuri din planul de integritate", ", ".join(measure_codes(risk)) or "—"),
            ("Termen de revizuire", _day(risk.review_on)),
            ("Stadiu", str(STATUS[risk.status])),
            ("Măsuri de remediere realizate", risk.remediation or "—"),
            ("Data remedierii", _day(risk.remediated_on)),
        ])
    return document


def _score(risk) -> str:
    return (f"{score(risk.probability, risk.impact)} "
            f"({str(CLASS[risk_class(risk.probability, risk.impact)]).lower()})")

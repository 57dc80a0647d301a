"""Every institution of the deployment at a glance, for whoever collects the plans' yearly
results (the county, the ministry): each one's degree of implementation and its overdue
measures, as a CSV. No role of the portal spans institutions, so this is the operator's
(`flask --app wsgi plan overview`), not a page."""
import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ...extensions import db
from ...models import Institution
from . import access
from .evaluation import degree
from .schedule import due_items

CSV_HEADERS = ("institutie", "an", "plan", "masuri_implementate", "masuri_total",
               "grad_implementare_procent", "masuri_cu_termen_depasit")


@dataclass(frozen=True)
class InstitutionRow:
    institution: str
    year: int
    plan: str
    implemented: int
    total: int
    percent: float
    overdue: list[str]


def rows(year: int, today: date) -> list[InstitutionRow]:
    found = []
    for institution in db.session.scalars(select(Institution).order_by(Institution.name)):
        plan = access.current_plan(institution.id)
        if plan is None:
            found.append(InstitutionRow(institution.name, year, "", 0, 0, 0.0, []))
            continue
        share = degree(plan, year)
        overdue = sorted({due.measure.code for due in due_items(plan, year, today)
                          if due.overdue}, key=lambda code: [int(p) if p.isdigit() else p
                                                             for p in code.split(".")])
        found.append(InstitutionRow(institution.name, year, plan.title, share.implemented,
                                    share.total, share.percent, overdue))
    return found


def as_csv(found: list[InstitutionRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for row in found:
        writer.writerow([row.institution, row.year, row.plan, row.implemented, row.total,
                         f"{row.percent:.1f}".replace(".", ","), " ".join(row.overdue)])
    return buffer.getvalue()

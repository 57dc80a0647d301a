"""A plan as a data file: YAML (the shipped plans, app/services/plan/data/) or CSV with the
plan's own columns, read into plain dataclasses and checked before anything is stored.

The next national strategy is a new file, not new code. A CSV has one row per measure:

    Obiectiv; Cod; Măsuri; Indicatori de performanță; Riscuri; Surse de verificare;
    Termen de realizare; Responsabili; Buget

("Obiectiv" is "1: Creșterea …" on the objective's first row and may be left empty after;
a cell listing several items puts one per line; an indicator may start with its kind in
brackets, "[count] Nr. participanți", or its kind and the figure the portal computes,
"[count:reports_received] …"; else it is a short text)."""
import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from flask_babel import lazy_gettext as _l

from ...models import IndicatorKind
from ..errors import DomainError
from .computed import COMPUTED

DATA_FOLDER = Path(__file__).parent / "data"
MAX_CELL = 4000
CSV_COLUMNS = ("Obiectiv", "Cod", "Măsuri", "Indicatori de performanță", "Riscuri",
               "Surse de verificare", "Termen de realizare", "Responsabili", "Buget")


class PlanDataRefused(DomainError):
    pass


@dataclass
class IndicatorData:
    label: str
    kind: IndicatorKind = IndicatorKind.TEXT
    computed: str | None = None


@dataclass
class MeasureData:
    code: str
    text: str
    indicators: list[IndicatorData] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    deadline: str | None = None
    responsible: list[str] = field(default_factory=list)
    budget: str | None = None
    footnote: str | None = None


@dataclass
class ObjectiveData:
    number: int
    title: str
    measures: list[MeasureData] = field(default_factory=list)


@dataclass
class PlanData:
    title: str
    adopted_on: date | None
    objectives: list[ObjectiveData] = field(default_factory=list)
    institution: str | None = None

    @property
    def measures(self) -> list[MeasureData]:
        return [measure for objective in self.objectives for measure in objective.measures]


def _text(value, what: str, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise PlanDataRefused(_l("%(what)s is missing.", what=what))
        return None
    if not isinstance(value, str | int | float):
        raise PlanDataRefused(_l("%(what)s must be a text.", what=what))
    text = " ".join(str(value).split())
    if len(text) > MAX_CELL:
        raise PlanDataRefused(_l("%(what)s is longer than %(max)d characters.", what=what,
                                 max=MAX_CELL))
    return text


def _texts(values, what: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = values.splitlines()
    if not isinstance(values, list):
        raise PlanDataRefused(_l("%(what)s must be a list.", what=what))
    return [text for text in (_text(value, what, required=False) for value in values) if text]


def _indicator(raw, code: str) -> IndicatorData:
    what = _l("An indicator of measure %(code)s", code=code)
    if isinstance(raw, str):
        raw = {"label": raw}
    if not isinstance(raw, dict):
        raise PlanDataRefused(_l("%(what)s must be a text.", what=what))
    try:
        kind = IndicatorKind(raw.get("kind") or "text")
    except ValueError as error:
        raise PlanDataRefused(_l("%(what)s has an unknown kind (one of: %(kinds)s).", what=what,
                                 kinds=", ".join(kind.value for kind in IndicatorKind))) from error
    computed = raw.get("computed")
    if computed is not None and computed not in COMPUTED:
        raise PlanDataRefused(_l("%(what)s names a figure the portal does not compute.",
                                 what=what))
    return IndicatorData(_text(raw.get("label"), what), kind, computed)


def from_mapping(document) -> PlanData:
    """A plan from a parsed YAML document; PlanDataRefused says what is wrong."""
    if not isinstance(document, dict):
        raise PlanDataRefused(_l("The file does not describe a plan."))
    adopted = document.get("adopted_on")
    if adopted is not None and not isinstance(adopted, date):
        try:
            adopted = date.fromisoformat(str(adopted))
        except ValueError as error:
            raise PlanDataRefused(_l("The adoption date must be written YYYY-MM-DD.")) from error
    plan = PlanData(_text(document.get("title"), _l("The plan's title")), adopted,
                    institution=_text(document.get("institution"), "", required=False))
    codes = set()
    for raw_objective in document.get("objectives") or []:
        if not isinstance(raw_objective, dict):
            raise PlanDataRefused(_l("The file does not describe a plan."))
        try:
            number = int(raw_objective.get("number"))
        except (TypeError, ValueError) as error:
            raise PlanDataRefused(_l("Each objective needs its number.")) from error
        objective = ObjectiveData(number, _text(raw_objective.get("title"),
                                                _l("The title of objective %(n)d", n=number)))
        for raw in raw_objective.get("measures") or []:
            if not isinstance(raw, dict):
                raise PlanDataRefused(_l("The file does not describe a plan."))
            code = _text(raw.get("code"), _l("A measure's code"))
            if code in codes:
                raise PlanDataRefused(_l("Measure %(code)s appears twice.", code=code))
            codes.add(code)
            objective.measures.append(MeasureData(
                code=code, text=_text(raw.get("text"), _l("The text of measure %(code)s",
                                                          code=code)),
                indicators=[_indicator(item, code) for item in raw.get("indicators") or []],
                risks=_texts(raw.get("risks"), _l("Risks")),
                sources=_texts(raw.get("sources"), _l("Verification sources")),
                deadline=_text(raw.get("deadline"), "", required=False),
                responsible=_texts(raw.get("responsible"), _l("Responsible")),
                budget=_text(raw.get("budget"), "", required=False),
                footnote=_text(raw.get("footnote"), "", required=False)))
        plan.objectives.append(objective)
    return plan


def from_yaml(text: str) -> PlanData:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PlanDataRefused(_l("The file is not valid YAML.")) from error
    return from_mapping(document)


def indicator_from_line(cell: str) -> dict:
    """"[count] Nr. participanți", "[count:reports_received] Nr. sesizări" or a bare label."""
    cell = cell.strip()
    if cell.startswith("[") and "]" in cell:
        tag, label = cell[1:].split("]", 1)
        kind, _, computed = tag.partition(":")
        return {"label": label, "kind": kind.strip(), "computed": computed.strip() or None}
    return {"label": cell}


def indicator_line(label: str, kind: IndicatorKind, computed: str | None) -> str:
    tag = f"{kind.value}:{computed}" if computed else kind.value
    return f"[{tag}] {label}"


def from_csv(text: str, title: str, adopted_on: date | None = None) -> PlanData:
    """A plan from a CSV with the plan's columns (see the module docstring)."""
    sample = text[:4096]
    dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    if rows and set(CSV_COLUMNS) - set(rows[0]):
        raise PlanDataRefused(_l("The CSV needs the columns: %(columns)s.",
                                 columns="; ".join(CSV_COLUMNS)))
    objectives: list[dict] = []
    for row in rows:
        heading = (row.get("Obiectiv") or "").strip()
        if heading:
            number, _, name = heading.partition(":")
            try:
                objectives.append({"number": int(number.split()[-1]), "title": name,
                                   "measures": []})
            except (ValueError, IndexError) as error:
                raise PlanDataRefused(_l("Write an objective as “1: its title”.")) from error
        if not objectives:
            raise PlanDataRefused(_l("The first row must name its objective."))
        objectives[-1]["measures"].append({
            "code": row["Cod"], "text": row["Măsuri"],
            "indicators": [indicator_from_line(cell) for cell in
                           (row["Indicatori de performanță"] or "").splitlines() if cell.strip()],
            "risks": row["Riscuri"], "sources": row["Surse de verificare"],
            "deadline": row["Termen de realizare"], "responsible": row["Responsabili"],
            "budget": row["Buget"]})
    return from_mapping({"title": title, "adopted_on": adopted_on, "objectives": objectives})


def read_file(path: str | Path) -> PlanData:
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        return from_csv(text, title=path.stem)
    return from_yaml(text)


def shipped(name: str = "baltati-2023") -> PlanData:
    """A plan shipped with the portal (the communes' plans follow the ministry's model)."""
    return read_file(DATA_FOLDER / f"{name}.yaml")

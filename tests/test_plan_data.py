"""The plan as data: the shipped Bălțați plan against the seed's own text, the loader (file,
CSV, command line, the demo) and the deadlines as written."""
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Change, IndicatorKind, MeasureVersion, Plan, PlanMeasure
from app.services.plan import data, deadlines
from app.services.plan.data import PlanDataRefused
from app.services.plan.loader import store_plan

SEED = Path("/work/shared/seed/000_7ead58bef94fd9e6.txt")
SEED_CODES = [f"{objective}.{n}" for objective, count in ((1, 8), (2, 4), (3, 3), (4, 3))
              for n in range(1, count + 1)]


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.exists():
        pytest.skip("the seed document is not on this machine")
    return SEED.read_text(encoding="utf-8")


def _found(text: str, haystack: str) -> bool:
    """In the seed as written, or split in two where a row breaks across lines or pages
    (1.7 and 2.4 are: the second half starts a line of its own)."""
    text, haystack = _words(text), _words(haystack)
    if text in haystack:
        return True
    words = text.split()
    return any(" ".join(words[:cut]) in haystack and " ".join(words[cut:]) in haystack
               for cut in range(1, len(words)))


def test_every_measure_of_the_seed_is_in_the_data_file(seed_text):
    plan = data.shipped()
    assert plan.title == "Plan de integritate al Comunei Bălțați"
    assert plan.adopted_on == date(2023, 2, 21)
    assert "Data elaborării : 21.02.2023" in seed_text
    assert [measure.code for measure in plan.measures] == SEED_CODES
    assert re.findall(r"^(\d\.\d) ", seed_text, re.MULTILINE) == SEED_CODES
    for objective in plan.objectives:
        assert f"Obiectiv {objective.number}: {objective.title}" in _words(seed_text)


def test_each_cell_appears_in_the_seed_as_written(seed_text):
    for measure in data.shipped().measures:
        assert _found(f"{measure.code} {measure.text}", seed_text), measure.code
        cells = [item.label for item in measure.indicators] + measure.risks + \
            measure.sources + measure.responsible
        cells += [value for value in (measure.deadline, measure.budget, measure.footnote)
                  if value]
        for cell in cells:
            assert _found(cell, seed_text), (measure.code, cell)


def test_the_transcription_keeps_romanian_letters_with_comma_below():
    text = Path(data.DATA_FOLDER / "baltati-2023.yaml").read_text(encoding="utf-8")
    assert "ș" in text and "ț" in text
    assert not re.search("[şţŞŢ]", text)


def test_the_shipped_plan_types_its_indicators():
    measures = {measure.code: measure for measure in data.shipped().measures}
    assert [item.computed for item in measures["2.2"].indicators] == [
        "reports_received", "channels_used", "preventive_posts"]
    assert measures["1.3"].indicators[0].kind is IndicatorKind.COUNT
    assert measures["1.7"].deadline == "Anual" and measures["4.3"].deadline == "La 2 ani"
    assert measures["1.8"].deadline is None  # the plan gives none
    assert measures["2.4"].risks[-1] == "Reticența la schimbare a angajaților"


@pytest.mark.parametrize("written, kind, day", [
    ("31 martie 2022", deadlines.ONCE, date(2022, 3, 31)),
    ("30 iunie 2022", deadlines.ONCE, date(2022, 6, 30)),
    ("Aprilie 2022", deadlines.ONCE, date(2022, 4, 30)),
    ("Mai 2022", deadlines.ONCE, date(2022, 5, 31)),
    ("Februarie 2024", deadlines.ONCE, date(2024, 2, 29)),
    ("15.09.2025", deadlines.ONCE, date(2025, 9, 15)),
    ("Permanent", deadlines.YEARLY, None),
    ("Anual", deadlines.YEARLY, None),
    ("Trimestrial", deadlines.QUARTERLY, None),
    ("La 2 ani", deadlines.EVERY_N_YEARS, None),
    ("o dată la doi ani", deadlines.EVERY_N_YEARS, None),
    (None, deadlines.NONE, None),
    ("31 februarie 2022", deadlines.UNKNOWN, None),
    ("cât mai curând", deadlines.UNKNOWN, None),
])
def test_deadlines_as_written(written, kind, day):
    parsed = deadlines.parse(written)
    assert parsed.kind == kind
    assert parsed.day == day


def test_due_dates_per_year():
    assert deadlines.parse("Anual").due_dates(2026) == [date(2026, 12, 31)]
    assert deadlines.parse("31 martie 2022").due_dates(2022) == [date(2022, 3, 31)]
    assert deadlines.parse("31 martie 2022").due_dates(2023) == []
    every_two = deadlines.parse("La 2 ani")
    assert [year for year in range(2023, 2029) if every_two.due_dates(year, 2023)] == [
        2023, 2025, 2027]
    assert len(deadlines.parse("Trimestrial").due_dates(2026)) == 4
    assert deadlines.parse(None).due_dates(2026) == []


def test_storing_the_plan_keeps_every_column_and_a_first_version(app, institution):
    plan = store_plan(institution, data.shipped())
    db.session.commit()
    measures = db.session.scalars(select(PlanMeasure).where(PlanMeasure.plan_id == plan.id)
                                  .order_by(PlanMeasure.id)).all()
    assert [measure.code for measure in measures] == SEED_CODES
    first = measures[0]
    assert first.deadline == "31 martie 2022" and first.budget == "Nu este cazul."
    assert first.responsible == ["Conducerea instituției"]
    assert [item.label for item in first.indicators][1] == "Transmiterea declarației către MDLPA"
    assert db.session.scalar(select(func.count(MeasureVersion.id)).where(
        MeasureVersion.change == Change.LOADED)) == 18


def test_plan_load_command_reads_yaml_and_csv(app, institution, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["plan", "load", str(data.DATA_FOLDER / "baltati-2023.yaml")])
    assert result.exit_code == 0, result.output
    assert "18 measures" in result.output
    csv_file = tmp_path / "strategia-2026.csv"
    csv_file.write_text(
        "Obiectiv;Cod;Măsuri;Indicatori de performanță;Riscuri;Surse de verificare;"
        "Termen de realizare;Responsabili;Buget\n"
        '1: Integritate instituțională;1.1;Adoptarea codului etic;"[yes_no] Cod adoptat\n'
        '[count] Nr. angajați instruiți";Reticență;Document aprobat;Anual;'
        "Conducerea instituției;Nu este cazul.\n"
        ";1.2;Evaluarea riscurilor;Nr. riscuri;;;La 2 ani;Secretarul general;\n",
        encoding="utf-8")
    result = runner.invoke(args=["plan", "load", str(csv_file), "--title", "Plan 2026"])
    assert result.exit_code == 0, result.output
    plan = db.session.scalars(select(Plan).order_by(Plan.id.desc())).first()
    assert plan.title == "Plan 2026"
    first, second = plan.objectives[0].measures
    assert [item.kind for item in first.indicators] == [IndicatorKind.YES_NO,
                                                        IndicatorKind.COUNT]
    assert second.deadline == "La 2 ani" and second.risks == []


def test_a_broken_file_is_refused_and_stores_nothing(app, institution, tmp_path):
    broken = tmp_path / "plan.yaml"
    broken.write_text("title: X\nobjectives:\n  - number: 1\n    title: Y\n    measures:\n"
                      "      - code: '1.1'\n        text: A\n      - code: '1.1'\n"
                      "        text: B\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["plan", "load", str(broken)])
    assert result.exit_code != 0 and "Măsura 1.1 apare de două ori" in result.output
    assert db.session.scalar(select(func.count(Plan.id))) == 0
    with pytest.raises(PlanDataRefused):
        data.from_yaml("objectives: [1, 2]")
    with pytest.raises(PlanDataRefused):
        data.from_mapping({"title": "X", "objectives": [{"number": 1, "title": "Y", "measures": [
            {"code": "1.1", "text": "A", "indicators": [{"label": "L", "computed": "nope"}]}]}]})


def test_plan_from_nothing(app, institution):
    result = app.test_cli_runner().invoke(args=["plan", "new", "--title", "Plan nou"])
    assert result.exit_code == 0, result.output
    plan = db.session.scalars(select(Plan)).one()
    assert plan.title == "Plan nou" and plan.objectives == []


def test_the_demo_loads_the_baltati_plan(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    plan = db.session.scalars(select(Plan)).one()
    assert plan.title == "Plan de integritate al Comunei Bălțați" and plan.published
    assert db.session.scalar(select(func.count(PlanMeasure.id))) == 18


def test_plan_overview_lists_every_institution(app, institution):
    import csv
    import io

    from app.models import MeasureStatus, MeasureYear
    from app.services.operations.institutions import create_institution

    plan = store_plan(institution, data.shipped())
    create_institution("Comuna Fără Plan")
    db.session.flush()
    first = plan.objectives[0].measures[0]
    db.session.add(MeasureYear(measure_id=first.id, year=2026, status=MeasureStatus.IMPLEMENTED))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["plan", "overview", "--year", "2026"])
    assert result.exit_code == 0, result.output
    rows = {row["institutie"]: row for row in csv.DictReader(io.StringIO(result.output))}
    baltati = rows["Comuna Bălțați"]
    assert baltati["masuri_implementate"] == "1" and baltati["masuri_total"] == "18"
    assert baltati["grad_implementare_procent"] == "5,6"
    assert "1.1" not in baltati["masuri_cu_termen_depasit"].split()  # implemented
    assert "1.2" in baltati["masuri_cu_termen_depasit"].split()  # 30 iunie 2022, never met
    assert rows["Comuna Fără Plan"]["plan"] == ""

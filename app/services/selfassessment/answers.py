"""Each year's answers to the inventory. The coordinator saves the whole year's sheet at once;
an item left without an answer is simply not answered yet."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import Answer, Role, SelfAssessmentAnswer, StaffMember
from ..access.guards import require_role
from ..audit import chain as audit
from ..errors import DomainError
from ..indicators.periods import EARLIEST_YEAR
from .inventory import Inventory

MAX_NOTE = 2000


class AnswerRefused(DomainError):
    pass


@dataclass(frozen=True)
class Given:
    answer: Answer | None
    note: str = ""


def _check_year(year: int) -> None:
    if not EARLIEST_YEAR <= year <= 9998:
        raise AnswerRefused(_l("Choose a year from %(year)d on.", year=EARLIEST_YEAR),
                            field="year")


def answers(member: StaffMember, inventory: Inventory, year: int) -> dict[str, Given]:
    """Item code → the answer given for `year` (items not answered are absent)."""
    require_role(member, Role.COORDINATOR)
    _check_year(year)
    rows = db.session.scalars(select(SelfAssessmentAnswer).where(
        SelfAssessmentAnswer.institution_id == member.institution_id,
        SelfAssessmentAnswer.inventory == inventory.code, SelfAssessmentAnswer.year == year))
    return {row.item_code: Given(row.answer, row.note) for row in rows}


def save(member: StaffMember, inventory: Inventory, year: int,
         given: dict[str, Given]) -> int:
    """Store the sheet; returns how many items are answered. Unknown item codes and notes
    over MAX_NOTE are refused before anything is written."""
    require_role(member, Role.COORDINATOR)
    _check_year(year)
    for code, value in given.items():
        if inventory.item(code) is None:
            raise AnswerRefused(_l("This item is not in the inventory."))
        if len(value.note or "") > MAX_NOTE:
            raise AnswerRefused(_l("Keep each note under %(max)d characters.", max=MAX_NOTE),
                                field=f"note-{code}")
        if value.answer is None and (value.note or "").strip():
            raise AnswerRefused(_l("Choose an answer for the item you wrote a note for."),
                                field=f"answer-{code}")
    existing = {row.item_code: row for row in db.session.scalars(
        select(SelfAssessmentAnswer).where(
            SelfAssessmentAnswer.institution_id == member.institution_id,
            SelfAssessmentAnswer.inventory == inventory.code,
            SelfAssessmentAnswer.year == year))}
    for code, value in given.items():
        row = existing.get(code)
        if value.answer is None:
            if row is not None:
                db.session.delete(row)
            continue
        if row is None:
            row = SelfAssessmentAnswer(institution_id=member.institution_id,
                                       inventory=inventory.code, year=year, item_code=code)
            db.session.add(row)
        row.answer, row.note = value.answer, (value.note or "").strip()
        row.answered_by_staff_id = member.id
    db.session.flush()
    count = sum(1 for value in given.values() if value.answer is not None)
    audit.record("self_assessment_saved", institution_id=member.institution_id, actor=member,
                 detail={"inventory": inventory.code, "year": year, "count": count})
    return count

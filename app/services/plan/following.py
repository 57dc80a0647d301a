"""Following a measure through a year: its status, what was done (progress entries) and the
indicator values typed by the person responsible. Values the portal computes are not typed
(see computed.py)."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import (
    IndicatorKind,
    IndicatorValue,
    MeasureStatus,
    MeasureYear,
    PlanIndicator,
    PlanMeasure,
    ProgressEntry,
    StaffAccount,
    StaffMember,
)
from ...models.types import utcnow
from ..audit import chain as audit
from ..errors import DomainError
from ..indicators.periods import EARLIEST_YEAR, local_today
from . import access

MAX_PROGRESS = 4000
MAX_REASON = 2000
MAX_VALUE = 500
YES, NO = "da", "nu"


class FollowRefused(DomainError):
    pass


def check_year(year: int) -> int:
    if not EARLIEST_YEAR <= year <= local_today().year + 1:
        raise FollowRefused(_l("Choose a year from %(first)d to next year.",
                               first=EARLIEST_YEAR), field="year")
    return year


def year_row(measure: PlanMeasure, year: int) -> MeasureYear | None:
    return db.session.scalar(select(MeasureYear).where(
        MeasureYear.measure_id == measure.id, MeasureYear.year == year))


def status_of(measure: PlanMeasure, year: int) -> MeasureStatus:
    row = year_row(measure, year)
    return row.status if row is not None else MeasureStatus.NOT_STARTED


def statuses(measure_ids: list[int], year: int) -> dict[int, MeasureYear]:
    if not measure_ids:
        return {}
    return {row.measure_id: row for row in db.session.scalars(select(MeasureYear).where(
        MeasureYear.measure_id.in_(measure_ids), MeasureYear.year == year))}


def set_status(member: StaffMember, measure_id: int, year: int, status: MeasureStatus,
               reason: str | None = None) -> MeasureYear:
    measure = access.measure_for(member, measure_id)
    access.require_follow(member, measure)
    check_year(year)
    reason = " ".join((reason or "").split()) or None
    if status is MeasureStatus.NOT_IMPLEMENTED and not reason:
        raise FollowRefused(_l("Say why the measure was not implemented."), field="reason")
    if reason and len(reason) > MAX_REASON:
        raise FollowRefused(_l("Keep the reason under %(max)d characters.", max=MAX_REASON),
                            field="reason")
    if status is not MeasureStatus.NOT_IMPLEMENTED:
        reason = None
    row = year_row(measure, year)
    old = row.status.value if row is not None else None
    if row is None:
        row = MeasureYear(measure_id=measure.id, year=year, status=status)
        db.session.add(row)
    row.status, row.reason = status, reason
    row.updated_by_staff_id, row.updated_at = member.id, utcnow()
    db.session.flush()
    audit.record("plan_status_set", institution_id=member.institution_id, actor=member,
                 detail={"measure_id": measure.id, "year": year, "old": old,
                         "new": status.value})
    return row


def add_progress(member: StaffMember, measure_id: int, year: int, happened_on: date | None,
                 text: str) -> ProgressEntry:
    measure = access.measure_for(member, measure_id)
    access.require_follow(member, measure)
    check_year(year)
    text = (text or "").strip()
    if not text:
        raise FollowRefused(_l("Say what was done."), field="text")
    if len(text) > MAX_PROGRESS:
        raise FollowRefused(_l("Keep it under %(max)d characters.", max=MAX_PROGRESS),
                            field="text")
    if happened_on is None:
        raise FollowRefused(_l("Give the date it was done."), field="happened_on")
    if happened_on > local_today():
        raise FollowRefused(_l("The date cannot be in the future."), field="happened_on")
    entry = ProgressEntry(measure_id=measure.id, year=year, happened_on=happened_on, text=text,
                          by_staff_id=member.id)
    db.session.add(entry)
    db.session.flush()
    audit.record("plan_progress_added", institution_id=member.institution_id, actor=member,
                 detail={"measure_id": measure.id, "year": year, "entry_id": entry.id})
    return entry


@dataclass(frozen=True)
class ProgressLine:
    happened_on: date
    text: str
    by: str | None


def progress(measure: PlanMeasure, year: int) -> list[ProgressLine]:
    rows = db.session.execute(
        select(ProgressEntry, StaffAccount.name)
        .outerjoin(StaffMember, StaffMember.id == ProgressEntry.by_staff_id)
        .outerjoin(StaffAccount, StaffAccount.id == StaffMember.account_id)
        .where(ProgressEntry.measure_id == measure.id, ProgressEntry.year == year)
        .order_by(ProgressEntry.happened_on, ProgressEntry.id)).all()
    return [ProgressLine(entry.happened_on, entry.text, name) for entry, name in rows]


def normalised(kind: IndicatorKind, raw: str) -> str:
    """The value as stored: a count as digits, yes/no as "da"/"nu", a percentage or an amount
    with a decimal comma; FollowRefused says how to write it."""
    text = " ".join((raw or "").split())
    if kind is IndicatorKind.TEXT:
        if len(text) > MAX_VALUE:
            raise FollowRefused(_l("Keep it under %(max)d characters.", max=MAX_VALUE))
        return text
    if kind is IndicatorKind.YES_NO:
        answer = text.lower()
        if answer in ("da", "yes", "y", "1"):
            return YES
        if answer in ("nu", "no", "n", "0"):
            return NO
        raise FollowRefused(_l("Answer yes or no."))
    number_text = text.replace(" ", "").replace("%", "").removesuffix("lei").replace(",", ".")
    try:
        number = Decimal(number_text)
    except InvalidOperation as error:
        raise FollowRefused(_l("Write a number.")) from error
    if not number.is_finite() or number < 0:
        raise FollowRefused(_l("Write a number from 0 up."))
    if kind is IndicatorKind.COUNT:
        if number != number.to_integral_value() or number > 10**9:
            raise FollowRefused(_l("Write a whole number."))
        return str(int(number))
    if kind is IndicatorKind.PERCENT and number > 100:
        raise FollowRefused(_l("A percentage goes from 0 to 100."))
    if number > 10**12:
        raise FollowRefused(_l("Write a number from 0 up."))
    return f"{number.quantize(Decimal('0.01'))}".replace(".", ",")


def set_values(member: StaffMember, measure_id: int, year: int,
               typed: dict[int, str]) -> int:
    """The typed values of the measure's indicators for the year ({indicator id: text}; an
    empty text removes the value). All or nothing; returns how many changed."""
    measure = access.measure_for(member, measure_id)
    access.require_follow(member, measure)
    check_year(year)
    indicators = {item.id: item for item in measure.indicators
                  if not item.retired and item.computed is None}
    existing = {row.indicator_id: row for row in db.session.scalars(select(IndicatorValue).where(
        IndicatorValue.indicator_id.in_(list(indicators) or [0]), IndicatorValue.year == year))}
    cleaned = {}
    for indicator_id, raw in typed.items():
        indicator = indicators.get(indicator_id)
        if indicator is None:
            continue
        try:
            cleaned[indicator_id] = normalised(indicator.kind, raw) if (raw or "").strip() else ""
        except FollowRefused as error:
            raise FollowRefused(_l("“%(label)s”: %(problem)s", label=indicator.label,
                                   problem=error.message),
                                field=f"value_{indicator_id}") from error
    changed = 0
    for indicator_id, value in cleaned.items():
        row = existing.get(indicator_id)
        if row is not None and row.value == value:
            continue
        if not value:
            if row is not None:
                db.session.delete(row)
                changed += 1
            continue
        if row is None:
            row = IndicatorValue(indicator_id=indicator_id, year=year, value=value)
            db.session.add(row)
        row.value, row.entered_by_staff_id, row.entered_at = value, member.id, utcnow()
        changed += 1
    db.session.flush()
    if changed:
        audit.record("plan_values_set", institution_id=member.institution_id, actor=member,
                     detail={"measure_id": measure.id, "year": year, "changed": changed})
    return changed


def typed_values(indicators: list[PlanIndicator], year: int) -> dict[int, IndicatorValue]:
    ids = [item.id for item in indicators]
    if not ids:
        return {}
    return {row.indicator_id: row for row in db.session.scalars(select(IndicatorValue).where(
        IndicatorValue.indicator_id.in_(ids), IndicatorValue.year == year))}

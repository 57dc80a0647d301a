"""The outreach log: preventive posts (measure 2.2, third indicator) and awareness activities
(measure 2.1), kept by the coordinator. Every change is audited; a refused entry saves nothing.
"""
from dataclasses import asdict, dataclass
from datetime import date
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...documents.outreach_kit import KitText
from ...extensions import db
from ...models import (
    Institution,
    OutreachItem,
    OutreachKind,
    OutreachKitItem,
    OutreachPlatform,
    Role,
    StaffMember,
)
from ..access.guards import require_role
from ..audit import chain as audit
from ..errors import DomainError
from .periods import local_today

MAX_TITLE = 300
MAX_LINK = 500
MAX_FEEDBACK = 2000
MAX_COUNT = 10_000_000  # people reached or present; beyond it is a typing slip


class OutreachRefused(DomainError):
    pass


class OutreachNotFound(DomainError):
    pass


@dataclass
class OutreachEntry:
    kind: OutreachKind
    platform: OutreachPlatform
    published_on: date | None  # None is refused by problems()
    title: str
    link: str | None = None
    audience: int | None = None
    participants: int | None = None
    feedback: str | None = None
    kit_item: OutreachKitItem | None = None


def problems(entry: OutreachEntry) -> list[tuple[str, object]]:
    """Every rule the entry breaks, as (field, message): forms show them all at once."""
    found = []
    title = (entry.title or "").strip()
    if not title:
        found.append(("title", _l("Give the title of the post or activity.")))
    elif len(title) > MAX_TITLE:
        found.append(("title", _l("Keep the title under %(max)d characters.", max=MAX_TITLE)))
    if entry.published_on is None:
        found.append(("published_on", _l("Give the date it was published or held.")))
    elif entry.published_on > local_today():
        found.append(("published_on", _l("The date cannot be in the future.")))
    link = (entry.link or "").strip()
    if link:
        parts = urlsplit(link)
        if len(link) > MAX_LINK or parts.scheme not in ("http", "https") or not parts.netloc \
                or any(ch.isspace() for ch in link):
            found.append(("link", _l("Give a web address starting with http:// or https://, "
                                     "or leave the link empty.")))
    for name in ("audience", "participants"):
        value = getattr(entry, name)
        if value is not None and not 0 <= value <= MAX_COUNT:
            found.append((name, _l("Give a whole number from 0 to %(max)d, or leave it empty.",
                                   max=MAX_COUNT)))
    if len((entry.feedback or "").strip()) > MAX_FEEDBACK:
        found.append(("feedback", _l("Keep the feedback under %(max)d characters.",
                                     max=MAX_FEEDBACK)))
    if entry.kind is OutreachKind.POST and (entry.feedback or "").strip():
        found.append(("feedback", _l("Participants' feedback is recorded for awareness "
                                     "activities.")))
    if entry.kind is OutreachKind.ACTIVITY and entry.kit_item is not None:
        found.append(("kit_item", _l("The outreach kit is linked to posts; leave it empty "
                                     "for an awareness activity.")))
    if entry.kind is OutreachKind.POST and entry.participants is not None:
        found.append(("participants", _l("Participants are recorded for awareness activities; "
                                         "for a post, give the audience reached.")))
    return found


def _validated(entry: OutreachEntry) -> OutreachEntry:
    found = problems(entry)
    if found:
        field, message = found[0]
        raise OutreachRefused(message, field=field)
    return OutreachEntry(entry.kind, entry.platform, entry.published_on, entry.title.strip(),
                         (entry.link or "").strip() or None, entry.audience,
                         entry.participants, (entry.feedback or "").strip() or None,
                         entry.kit_item)


def _detail(item: OutreachItem) -> dict:
    return {"id": item.id, "kind": item.kind.value, "platform": item.platform.value,
            "published_on": item.published_on.isoformat(), "title": item.title,
            "link": item.link, "audience": item.audience, "participants": item.participants,
            "feedback": item.feedback,
            "kit_item": item.kit_item.value if item.kit_item else None}


def items_for_year(member: StaffMember, year: int) -> list[OutreachItem]:
    require_role(member, Role.COORDINATOR)
    return list(db.session.scalars(
        select(OutreachItem).where(OutreachItem.institution_id == member.institution_id,
                                   OutreachItem.published_on >= date(year, 1, 1),
                                   OutreachItem.published_on <= date(year, 12, 31))
        .order_by(OutreachItem.published_on.desc(), OutreachItem.id.desc())))


def get(member: StaffMember, item_id: int) -> OutreachItem:
    require_role(member, Role.COORDINATOR)
    item = db.session.get(OutreachItem, item_id)
    if item is None or item.institution_id != member.institution_id:
        raise OutreachNotFound(_l("This entry does not exist (any more)."))
    return item


def create(member: StaffMember, entry: OutreachEntry) -> OutreachItem:
    require_role(member, Role.COORDINATOR)
    entry = _validated(entry)
    item = OutreachItem(institution_id=member.institution_id, created_by_staff_id=member.id,
                        **asdict(entry))
    db.session.add(item)
    db.session.flush()
    audit.record("outreach_created", institution_id=member.institution_id, actor=member,
                 detail=_detail(item))
    return item


def update(member: StaffMember, item_id: int, entry: OutreachEntry) -> OutreachItem:
    item = get(member, item_id)
    entry = _validated(entry)
    before = _detail(item)
    for name, value in asdict(entry).items():
        setattr(item, name, value)
    db.session.flush()
    after = _detail(item)
    changes = {name: {"old": before[name], "new": after[name]}
               for name in after if before[name] != after[name]}
    if changes:
        audit.record("outreach_updated", institution_id=member.institution_id, actor=member,
                     detail={"id": item.id, "changes": changes})
    return item


def delete(member: StaffMember, item_id: int) -> None:
    item = get(member, item_id)
    detail = _detail(item)
    db.session.delete(item)
    db.session.flush()
    audit.record("outreach_deleted", institution_id=member.institution_id, actor=member,
                 detail=detail)


def kit_text(member: StaffMember, address: str) -> KitText:
    """What the outreach kit prints: the coordinator's institution and the portal's address."""
    require_role(member, Role.COORDINATOR)
    institution = db.session.get_one(Institution, member.institution_id)
    return KitText(institution.name, address)

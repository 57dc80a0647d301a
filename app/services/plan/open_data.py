"""Open-data publications (measure 3.2): each data set published, with its address, so the
indicator "seturi de date publicate" is counted, not typed."""
from datetime import date
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import OpenDataPublication, StaffMember
from ..audit import chain as audit
from ..errors import DomainError
from ..indicators.periods import local_today
from . import access

MAX_TITLE = 300
MAX_URL = 500


class PublicationRefused(DomainError):
    pass


def record(member: StaffMember, title: str, url: str, published_on: date | None) \
        -> OpenDataPublication:
    access.require_coordinator(member)
    title, url = " ".join((title or "").split()), (url or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise PublicationRefused(_l("Give the data set's title (up to %(max)d characters).",
                                    max=MAX_TITLE), field="title")
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.netloc \
            or any(ch.isspace() for ch in url):
        raise PublicationRefused(_l("Give the data set's address, starting with https://."),
                                 field="url")
    if published_on is None or published_on > local_today():
        raise PublicationRefused(_l("Give the date it was published (not in the future)."),
                                 field="published_on")
    row = OpenDataPublication(institution_id=member.institution_id, title=title, url=url,
                              published_on=published_on, created_by_staff_id=member.id)
    db.session.add(row)
    db.session.flush()
    audit.record("open_data_recorded", institution_id=member.institution_id, actor=member,
                 detail={"id": row.id, "url": url})
    return row


def listed(member: StaffMember) -> list[OpenDataPublication]:
    access.require_coordinator(member)
    return list(db.session.scalars(select(OpenDataPublication).where(
        OpenDataPublication.institution_id == member.institution_id)
        .order_by(OpenDataPublication.published_on.desc(), OpenDataPublication.id.desc())))

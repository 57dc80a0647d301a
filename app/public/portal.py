"""The portal's own home on a deployment of several institutions: find yours by name or
county (a plain GET form, no JavaScript), then report on its own pages."""
from flask import render_template, request
from sqlalchemy import or_, select

from ..extensions import db
from ..models import Institution
from ..services.operations.institutions import slugify

MAX_SHOWN = 200


def find_institutions(text: str, county: str) -> list[Institution]:
    """Matching institutions by name (diacritics or not) and county, in name order."""
    query = select(Institution).order_by(Institution.county, Institution.name)
    if county:
        query = query.where(Institution.county == county)
    text = text.strip()
    if text:
        query = query.where(or_(Institution.name.ilike(f"%{text}%"),
                                Institution.slug.contains(slugify(text))))
    return list(db.session.scalars(query.limit(MAX_SHOWN)))


def counties() -> list[str]:
    return [county for county in db.session.scalars(
        select(Institution.county).where(Institution.county.is_not(None))
        .distinct().order_by(Institution.county)) if county]


def portal_home():
    text = request.args.get("q", "")[:100]
    county = request.args.get("county", "")[:40]
    searched = bool(text.strip() or county)
    found = find_institutions(text, county)
    return render_template("public/portal.html", institution=None, found=found,
                           text=text, county=county, counties=counties(), searched=searched,
                           capped=len(found) >= MAX_SHOWN)

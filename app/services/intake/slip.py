"""The receipt slip: what a reporter keeps, on paper, beside the receipt code. It names the
institution, the follow-up address and a QR code of that address — never of the receipt, so a
photographed slip or a phone's scan history does not hand the case to anyone — the day
received and the day by which receipt is acknowledged (Law 361/2022: 7 days)."""
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import segno
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ...models.types import utcnow
from ...tenancy import public_link
from ..localtime import local_date
from .submit import Submitted


@dataclass(frozen=True)
class Slip:
    institution: str
    followup_address: str
    qr_svg: Markup
    received_on: str  # dates in Romania, written out in the page's language
    acknowledge_by: str


def followup_address(institution_id: int) -> str:
    return public_link(institution_id, "public.followup_login")


@lru_cache(maxsize=64)
def qr_svg(text: str, label: str) -> Markup:
    """`text` as an inline SVG QR code (nothing loaded from anywhere), named for screen
    readers. Kept per address and label: encoding it costs more than the rest of the page, and
    the address is the institution's follow-up page, the same for every reporter."""
    svg = segno.make(text, error="m").svg_inline(scale=4, border=2)
    # segno writes only numbers and path commands; the one text, the label, is escaped.
    named = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return Markup(named)  # noqa: S704 (SVG by segno)  # nosec B704


def receipt_slip(submitted: Submitted) -> Slip:
    """The slip of a report just received: everything on it was read before the commit, so
    a connection lost just after it does not cost the reporter the receipt page."""
    address = followup_address(submitted.institution_id)
    received_at = submitted.received_at or utcnow()
    acknowledge_due_at = submitted.acknowledge_due_at or received_at
    return Slip(institution=submitted.institution_name, followup_address=address,
                qr_svg=qr_svg(address, str(_l("QR code of the follow-up address"))),
                received_on=_long(local_date(received_at)),
                acknowledge_by=_long(local_date(acknowledge_due_at)))


def _long(day: date) -> str:
    return format_date(day, "long")

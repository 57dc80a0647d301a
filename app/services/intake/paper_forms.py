"""Paper report forms for the box and for post, each with its own receipt code.

The codes are drawn here and printed, nothing else: no row, no log line. A code becomes a
receipt only when staff type it at manual intake (receipts.claim), so a form nobody fills in
leaves no trace and a printed batch cannot be listed from the database."""
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ...documents.paper_form import PaperForms, paper_forms_pdf
from ...labels import CATEGORY
from ...models import Institution, Role, StaffMember
from ...tenancy import public_url
from ..access.guards import require_role
from ..errors import DomainError
from ..operations.settings import enabled_categories
from . import receipts
from .submit import EXTERNAL_CHANNEL_URL

MAX_FORMS = 100


def print_forms(member: StaffMember, institution: Institution, count: int) -> bytes:
    """`count` forms as one PDF, two pages each. Handlers print them: they open the box and
    type the codes back at manual intake."""
    require_role(member, Role.HANDLER)
    if not 1 <= count <= MAX_FORMS:
        raise DomainError(_l("Print between 1 and %(max)d forms at a time.", max=MAX_FORMS),
                          field="count")
    codes: dict[str, None] = {}  # distinct, in the order drawn
    while len(codes) < count:
        codes[receipts.new_paper_code()] = None
    with force_locale("ro"):
        categories = tuple(str(CATEGORY[category])
                           for category in enabled_categories(institution))
    return paper_forms_pdf(PaperForms(
        institution=institution.name,
        followup_address=public_url(institution, "public.followup_login"),
        privacy_address=public_url(institution, "public.privacy"),
        external_channel=EXTERNAL_CHANNEL_URL, categories=categories,
        codes=tuple(receipts.display(code) for code in codes)))

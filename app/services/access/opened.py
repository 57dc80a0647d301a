"""One way into a case for a handler's request: the role, institution and key checked, and the
case key unwrapped, once. Every operation on the case (workflow, messages, notes, redaction,
identity, grants, downloads) takes the OpenCase this returns instead of opening it again."""
from dataclasses import dataclass

from ...models import Case, StaffMember
from ..staff.sign_in import StaffAccess
from . import keys as key_access
from .guards import case_for_handler


@dataclass(frozen=True)
class OpenCase:
    """A case this request's handler may work on, with its key: only `open_case` makes one."""

    case: Case
    key: bytes
    access: StaffAccess

    @property
    def member(self) -> StaffMember:
        return self.access.member


def open_case(access: StaffAccess, case_id: int) -> OpenCase:
    """The case and its key, if the signed-in handler of the same institution holds it;
    NotAuthorised otherwise (also for a case that does not exist, so ids cannot be probed).
    Operations that need more (the identity key, a handler to grant to) check that too."""
    case = case_for_handler(access.member, case_id)
    return OpenCase(case, key_access.open_case_key(case, access.member, access.private_key),
                    access)

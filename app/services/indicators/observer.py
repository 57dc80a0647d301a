"""What an observer (a county, an association of communes, the ministry) sees: the
integrity-plan indicators of the institutions in their scope, for any period, as each
institution publishes them (small counts hidden) and summed only from those published figures
(group_public.py), so no commune's small count can be read back from the group's totals.
Never a case, an identity or a staff member."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ...models import PlatformRole, StaffAccount
from ..errors import NotAuthorised
from .group import EVERYONE, Group, all_institutions, county_group, group_indicators, list_group
from .group_public import PublicGroup, public_group
from .periods import Period


@dataclass(frozen=True)
class ObserverView:
    scope: Group  # everything the observer may see
    shown: Group  # the part chosen on the page (a county of the scope, or all of it)
    period: Period
    figures: PublicGroup


def scope_of(account: StaffAccount) -> Group:
    """The group an observer account is set up for ("*", "county:<name>", "ids:1,2")."""
    if account.platform_role is not PlatformRole.OBSERVER or not account.observer_scope:
        raise NotAuthorised(_l("Your role does not allow this."))
    scope = account.observer_scope
    if scope == "*":
        return all_institutions()
    if scope.startswith("county:"):
        return county_group(scope.removeprefix("county:"))
    ids = [int(value) for value in scope.removeprefix("ids:").split(",") if value.isdigit()]
    return list_group(ids, str(_l("your institutions")))


def counties_in(scope: Group) -> list[str]:
    return sorted({member.county for member in scope.members if member.county})


def view(account: StaffAccount, period: Period, county: str | None = None) -> ObserverView:
    """The scope, or one county of it, for the period."""
    scope = scope_of(account)
    shown = scope
    if county:
        if scope.kind == EVERYONE:
            shown = county_group(county)
        else:
            shown = Group(scope.kind, county, tuple(member for member in scope.members
                                                    if member.county == county))
    return ObserverView(scope=scope, shown=shown, period=period,
                        figures=public_group(group_indicators(shown, period)))

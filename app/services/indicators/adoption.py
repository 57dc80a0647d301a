"""Who implemented measure 2.2 (the reporting channel and preventive messages), per group.

The ministry's real question about a county or the country: which institutions have a
channel that nobody uses, and which have not reported at all. Worked out from the figures
each institution publishes (group_public.py), so the list says nothing its own pages do not:
a total of 0 and the institution's own posts are never suppressed.

- not_reporting: no report received and no preventive post or awareness activity in the
  period: nothing shows that measure 2.2 was carried out.
- channel_unused: preventive posts or activities, but no report received in the period.
- no_prevention: reports received, but no preventive post or activity recorded.
- active: reports received and preventive posts published.

A suspended institution is marked as such (its channel accepts no reports).
"""
from collections import OrderedDict
from dataclasses import dataclass

from .group import Member
from .group_public import PublicGroup

NOT_REPORTING, CHANNEL_UNUSED, NO_PREVENTION, ACTIVE = (
    "not_reporting", "channel_unused", "no_prevention", "active")
STATES = (NOT_REPORTING, CHANNEL_UNUSED, NO_PREVENTION, ACTIVE)


@dataclass(frozen=True)
class Adoption:
    member: Member
    state: str
    reports_received: str  # as published: "0", "<3", "12"
    preventive_posts: int
    activities: int


def adoption(published: PublicGroup) -> list[Adoption]:
    """One entry per institution of the group, in the group's order."""
    out = []
    for member in published.group.members:
        view = published.views[member.id]
        received = view.received.value  # None when hidden: then it is at least 1
        prevention = view.posts_total + view.activities
        if received == 0:
            state = CHANNEL_UNUSED if prevention else NOT_REPORTING
        else:
            state = ACTIVE if prevention else NO_PREVENTION
        out.append(Adoption(member=member, state=state, reports_received=view.received.text,
                            preventive_posts=view.posts_total, activities=view.activities))
    return out


def by_state(entries: list[Adoption]) -> "OrderedDict[str, list[Adoption]]":
    grouped: OrderedDict[str, list[Adoption]] = OrderedDict((state, []) for state in STATES)
    for entry in entries:
        grouped[entry.state].append(entry)
    return grouped

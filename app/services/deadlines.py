"""Legal clocks. Law 361/2022: acknowledge a whistleblower report within 7 calendar days."""
from datetime import datetime, timedelta

ACKNOWLEDGE_WITHIN = timedelta(days=7)


def acknowledge_due(received_at: datetime) -> datetime:
    return received_at + ACKNOWLEDGE_WITHIN

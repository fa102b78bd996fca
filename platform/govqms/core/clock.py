"""The platform's clock and calendar arithmetic: the day in Vietnam, whatever the server's zone.

Every "today" of the platform (due dates, the status engine, reports, imports) asks here, so a
deployment in another zone, or a test, judges the same day.
"""
from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def today() -> dt.date:
    """Today in Vietnam."""
    return dt.datetime.now(VIETNAM).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """*day* moved by *months*, kept within the month (31/01 + 1 month is 28/02 or 29/02)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))

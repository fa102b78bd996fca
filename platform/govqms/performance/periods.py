"""Reporting periods as the one-stop forms write them: a month, a quarter, a half-year, a year, or
an explicit date range, read from a cell, from the title of a sheet, or typed by the user.

A period is stored as the months it covers within one year (``first_month``–``last_month``) and the
days the form gave (``start``–``end``). The government's reporting periods run from the 15th of the
month before to the 14th of the last month (Nghị định 09/2019/NĐ-CP: "Kỳ báo cáo: từ ngày 15/06/2026
đến ngày 14/09/2026" is the third quarter), so a range is read either as whole calendar months or as
that convention; any other range is refused rather than guessed.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from govqms.core.text import fold

ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


class PeriodError(ValueError):
    """A period that cannot be read; the message says why, in the user's language."""


@dataclass(frozen=True, order=True)
class Period:
    year: int
    first_month: int
    last_month: int
    start: dt.date
    end: dt.date

    @classmethod
    def months(cls, year: int, first: int, last: int) -> Period:
        if not (1 <= first <= last <= 12) or not (2000 <= year <= 2100):
            raise PeriodError(str(_l("not a period of whole months within a year")))
        return cls(year, first, last, dt.date(year, first, 1),
                   dt.date(year, last, calendar.monthrange(year, last)[1]))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls.months(year, month, month)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if not 1 <= quarter <= 4:
            raise PeriodError(str(_l("a quarter is I to IV")))
        return cls.months(year, 3 * quarter - 2, 3 * quarter)

    @classmethod
    def between(cls, start: dt.date, end: dt.date) -> Period:
        """A date range: whole calendar months, or the reporting convention 15th → 14th."""
        if end < start:
            raise PeriodError(str(_l("the period ends before it starts")))
        if start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1] and start.year == end.year:
            return cls(end.year, start.month, end.month, start, end)
        if start.day == 15 and end.day == 14:
            first = start.month % 12 + 1
            first_year = start.year + (start.month == 12)
            if first_year == end.year and first <= end.month:
                return cls(end.year, first, end.month, start, end)
        raise PeriodError(str(_l("a date range must be whole months (1st to last day) or run from the 15th "
                                 "to the 14th, as reporting periods do; %(start)s–%(end)s is neither",
                                 start=start.strftime("%d/%m/%Y"), end=end.strftime("%d/%m/%Y"))))

    @property
    def length(self) -> int:
        return self.last_month - self.first_month + 1

    @property
    def kind(self) -> str:
        if self.length == 1:
            return "month"
        if self.length == 3 and self.first_month % 3 == 1:
            return "quarter"
        if self.length == 6 and self.first_month in (1, 7):
            return "half"
        if self.length == 12:
            return "year"
        return "months"

    def label(self) -> str:
        """As a Vietnamese form names it (translated): 09/2026, Quý III/2026, 6 tháng đầu năm 2026."""
        kind = self.kind
        if kind == "month":
            text = f"{self.first_month:02d}/{self.year}"
        elif kind == "quarter":
            text = str(_l("Quarter %(q)s/%(year)s", q=["I", "II", "III", "IV"][self.first_month // 3],
                          year=self.year))
        elif kind == "half":
            text = str(_l("First half of %(year)s", year=self.year) if self.first_month == 1
                       else _l("Second half of %(year)s", year=self.year))
        elif kind == "year":
            text = str(_l("Year %(year)s", year=self.year))
        else:
            text = f"{self.first_month:02d}–{self.last_month:02d}/{self.year}"
        if self.start != dt.date(self.year, self.first_month, 1) or self.end.day != calendar.monthrange(
                self.end.year, self.end.month)[1]:
            text += f" ({self.start:%d/%m/%Y}–{self.end:%d/%m/%Y})"
        return text

    def overlaps(self, other: Period) -> bool:
        return self.year == other.year and self.first_month <= other.last_month and other.first_month <= self.last_month

    def contains(self, other: Period) -> bool:
        return self.year == other.year and self.first_month <= other.first_month and other.last_month <= self.last_month

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


_DATE = r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})"
_RANGE = re.compile(rf"(?:tu\s*(?:ngay)?\s*)?{_DATE}\s*(?:-|–|—|den\s*(?:ngay)?|to)\s*(?:ngay\s*)?{_DATE}")
_MONTH = re.compile(r"^\s*(?:thang\s*)?(\d{1,2})\s*(?:[/.-]|nam)\s*(\d{4})\s*$")
_ISO_MONTH = re.compile(r"^\s*(\d{4})\s*[/.-]\s*(\d{1,2})\s*$")
_QUARTER = re.compile(r"(?:quy|q|quarter)\s*([ivx]+|\d)\s*(?:[/.-]|nam|of|,)?\s*(\d{4})")
_HALF = re.compile(r"6\s*thang\s*(dau|cuoi)\s*(?:nam\s*)?(\d{4})|(first|second)\s*half\s*(?:of\s*)?(\d{4})")
_YEAR = re.compile(r"^\s*(?:nam\s*)?(\d{4})\s*$")
_TITLE_MONTH = re.compile(r"thang\s*(\d{1,2})\s*(?:nam|/)\s*(\d{4})")
_TITLE_YEAR = re.compile(r"(?:ky bao cao|bao cao)\D*nam\s*(\d{4})")


def _date(day: str, month: str, year: str) -> dt.date:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError as err:
        raise PeriodError(str(_l("%(value)s is not a date", value=f"{day}/{month}/{year}"))) from err


def _quarter_number(text: str) -> int:
    return ROMAN.get(text, 0) if not text.isdigit() else int(text)


def parse(value: Any) -> Period:
    """A period typed in a cell or a form: ``09/2026``, ``2026-09``, ``Tháng 9 năm 2026``, ``Quý III/2026``,
    ``Q3 2026``, ``6 tháng đầu năm 2026``, ``Năm 2026``, ``15/06/2026 - 14/09/2026`` or a spreadsheet
    date (its month)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return Period.month(value.year, value.month)
    text = fold(str(value if value is not None else "")).strip()
    if not text:
        raise PeriodError(str(_l("no period given")))
    found = find(text, strict=True)
    if found is None:
        raise PeriodError(str(_l("unknown period %(value)s (use mm/yyyy, Q3/2026, first half of 2026, 2026 or "
                                 "dd/mm/yyyy - dd/mm/yyyy)", value=str(value).strip())))
    return found


def find(text: str, strict: bool = False) -> Period | None:
    """The period named in *text* (a cell, or with ``strict=False`` a title line such as "Kỳ báo cáo: từ
    ngày 15/06/2026 đến ngày 14/09/2026" or "BÁO CÁO … QUÝ III NĂM 2026"); None if none is named."""
    text = fold(text)
    match = _RANGE.search(text)
    if match:
        return Period.between(_date(*match.groups()[:3]), _date(*match.groups()[3:]))
    match = _QUARTER.search(text)
    if match and _quarter_number(match.group(1)):
        return Period.quarter(int(match.group(2)), _quarter_number(match.group(1)))
    match = _HALF.search(text)
    if match:
        first = (match.group(1) or match.group(3)) in ("dau", "first")
        year = int(match.group(2) or match.group(4))
        return Period.months(year, 1, 6) if first else Period.months(year, 7, 12)
    if strict:
        for pattern in (_MONTH, _ISO_MONTH):
            match = pattern.match(text)
            if match:
                month, year = match.groups() if pattern is _MONTH else reversed(match.groups())
                if 1 <= int(month) <= 12:
                    return Period.month(int(year), int(month))
        match = _YEAR.match(text)
        if match:
            return Period.months(int(match.group(1)), 1, 12)
        return None
    match = _TITLE_MONTH.search(text)
    if match and 1 <= int(match.group(1)) <= 12:
        return Period.month(int(match.group(2)), int(match.group(1)))
    match = _TITLE_YEAR.search(text) or re.search(r"\bnam\s*(\d{4})\b", text)
    if match:
        return Period.months(int(match.group(1)), 1, 12)
    return None

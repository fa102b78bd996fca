"""How an objective is judged: its periods, the achievement of a value, the status and its reason.

Pure functions, so every rule can be checked with numbers worked by hand. ``assess`` gives the status
alone, cheap enough for every agency of a province at once; ``judge`` adds the reason a page shows.

- **Periods** follow the measurement frequency within the objective's year: 12 months, 4 quarters,
  2 halves or the year. A period is *due* once its last day has passed.
- **Achievement** of a value against the target, in percent, capped at 100:
  ``>=``: value ÷ target (a target of 0 is met by any value ≥ 0); ``<=``: 100 when value ≤ target,
  else target ÷ value; ``=``: 100 when equal, else 100 − the relative gap.
  The target is *met* when the comparator holds.
- **Status** is judged on the latest measured value:
  the year is over → *on track* (achieved) if met, else *missed*;
  during the year → *at risk* when a due period has no measurement or the latest value misses
  the target, else *on track*.
"""
from __future__ import annotations

import calendar
import datetime as dt
import functools
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEAR = "half_year"
    YEAR = "year"


class Comparator(StrEnum):
    AT_LEAST = ">="
    AT_MOST = "<="
    EQUAL = "="


class Status(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    MISSED = "missed"


MONTHS_PER_PERIOD = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.HALF_YEAR: 6, Frequency.YEAR: 12}
FREQUENCY_LABELS = {Frequency.MONTHLY: _l("Monthly"), Frequency.QUARTERLY: _l("Quarterly"),
                    Frequency.HALF_YEAR: _l("Half-yearly"), Frequency.YEAR: _l("Yearly")}
STATUS_LABELS = {Status.ON_TRACK: _l("On track"), Status.AT_RISK: _l("At risk"), Status.MISSED: _l("Missed")}


@dataclass(frozen=True)
class Period:
    index: int          # 1-based within the year
    first_day: dt.date
    last_day: dt.date
    months: tuple[int, ...]

    def label(self, frequency: str) -> str:
        if frequency == Frequency.MONTHLY:
            return f"{self.first_day.month:02d}/{self.first_day.year}"
        if frequency == Frequency.QUARTERLY:
            return str(_l("Q%(n)s/%(year)s", n=self.index, year=self.first_day.year))
        if frequency == Frequency.HALF_YEAR:
            return str(_l("H%(n)s/%(year)s", n=self.index, year=self.first_day.year))
        return str(self.first_day.year)


def periods(year: int, frequency: str) -> list[Period]:
    return list(_periods(year, frequency))


@functools.lru_cache(maxsize=256)  # the comparison asks for the same few years and frequencies thousands of times
def _periods(year: int, frequency: str) -> tuple[Period, ...]:
    size = MONTHS_PER_PERIOD[Frequency(frequency)]
    out = []
    for index, first_month in enumerate(range(1, 13, size), start=1):
        last_month = first_month + size - 1
        out.append(Period(index, dt.date(year, first_month, 1),
                          dt.date(year, last_month, calendar.monthrange(year, last_month)[1]),
                          tuple(range(first_month, last_month + 1))))
    return tuple(out)


def met(value: float, target: float, comparator: str) -> bool:
    if comparator == Comparator.AT_LEAST:
        return value >= target
    if comparator == Comparator.AT_MOST:
        return value <= target
    return abs(value - target) < 1e-9


def achievement(value: float, target: float, comparator: str) -> float:
    """Percent of the target reached, 0–100 (see the module's rules)."""
    if comparator == Comparator.AT_LEAST:
        ratio = 1.0 if target <= 0 else value / target
    elif comparator == Comparator.AT_MOST:
        ratio = 1.0 if value <= target else (target / value if value else 0.0)
    else:
        ratio = 1.0 if target == value else (1 - abs(value - target) / abs(target) if target else 0.0)
    return round(max(0.0, min(1.0, ratio)) * 100, 1)


@dataclass(frozen=True, slots=True)
class Assessment:
    """The status of an objective on a day, without its reason: cheap enough for every agency at once."""

    status: Status
    latest_value: float | None
    latest_period: Period | None
    achievement: float | None
    missing: tuple[Period, ...]  # due periods without a value (during the year only)
    year_over: bool


@dataclass(frozen=True)
class Judgement:
    status: Status
    reason: str
    latest_value: float | None
    latest_period: Period | None
    achievement: float | None


def _fmt(number: float) -> str:
    return f"{number:g}"


def assess(year: int, frequency: str, target: float, comparator: str, values: dict[int, float],
           today: dt.date) -> Assessment:
    """The objective's status on *today*, from its measured *values* by period index (see the module's rules)."""
    all_periods = _periods(year, frequency)
    due = [p for p in all_periods if p.last_day < today]
    latest = next((p for p in reversed(all_periods) if p.index in values), None)
    value = values[latest.index] if latest else None
    achieved = achievement(value, target, comparator) if latest else None
    if len(due) == len(all_periods):
        status = Status.ON_TRACK if latest is not None and met(value, target, comparator) else Status.MISSED
        return Assessment(status, value, latest, achieved, (), True)
    missing = tuple(p for p in due if p.index not in values)
    if missing or (latest is not None and not met(value, target, comparator)):
        return Assessment(Status.AT_RISK, value, latest, achieved, missing, False)
    return Assessment(Status.ON_TRACK, value, latest, achieved, (), False)


def reason(assessment: Assessment, frequency: str, target: float, comparator: str) -> str:
    """Why the objective has its status, in the user's language."""
    value, latest = assessment.latest_value, assessment.latest_period
    if assessment.year_over:
        if latest is None:
            return str(_l("No measurement was recorded this year."))
        if assessment.status == Status.ON_TRACK:
            return str(_l("Achieved: %(value)s against a target %(cmp)s %(target)s.",
                          value=_fmt(value), cmp=comparator, target=_fmt(target)))
        return str(_l("Missed: %(value)s against a target %(cmp)s %(target)s.",
                      value=_fmt(value), cmp=comparator, target=_fmt(target)))
    if assessment.missing:
        return str(_l("No measurement for %(periods)s.",
                      periods=", ".join(p.label(frequency) for p in assessment.missing)))
    if latest is None:
        return str(_l("No period has ended yet."))
    if assessment.status == Status.ON_TRACK:
        return str(_l("Latest (%(period)s): %(value)s, target %(cmp)s %(target)s.",
                      period=latest.label(frequency), value=_fmt(value), cmp=comparator, target=_fmt(target)))
    return str(_l("Latest (%(period)s): %(value)s misses the target %(cmp)s %(target)s.",
                  period=latest.label(frequency), value=_fmt(value), cmp=comparator, target=_fmt(target)))


def explained(assessment: Assessment, frequency: str, target: float, comparator: str) -> Judgement:
    """The assessment with its reason, for a page that shows it."""
    return Judgement(assessment.status, reason(assessment, frequency, target, comparator),
                     assessment.latest_value, assessment.latest_period, assessment.achievement)


def judge(year: int, frequency: str, target: float, comparator: str, values: dict[int, float],
          today: dt.date) -> Judgement:
    """The objective's status on *today*, from its measured *values* by period index, with its reason."""
    return explained(assess(year, frequency, target, comparator, values, today), frequency, target, comparator)

"""The oversight charts, drawn by the app as SVG (no script, nothing loaded from outside):
levels over time from the daily compliance snapshots, and the distribution of results by check."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from govqms.compliance.models import ComplianceSnapshot
from govqms.core.db import in_ids
from govqms.extensions import db

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 30
LEVELS = ("red", "amber", "green")
RESULTS = ("overdue", "due_soon", "ok", "not_applicable")


@dataclass(frozen=True)
class Segment:
    key: str
    x: float
    y: float
    width: float
    height: float
    count: int


@dataclass(frozen=True)
class Column:
    label: str
    segments: list[Segment]
    total: int


@dataclass(frozen=True)
class LevelsChart:
    columns: list[Column]
    gridlines: list[tuple[int, float]]  # (agencies, y)
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT

    @property
    def empty(self) -> bool:
        return not any(c.total for c in self.columns)


def levels_over_time(tenant_ids: list[int], on: dt.date, days: int = 60) -> LevelsChart:
    """Red, amber and green agencies per day over *days* days up to *on* (one query)."""
    start = on - dt.timedelta(days=days - 1)
    counts: dict[dt.date, dict[str, int]] = {}
    for day, level, n in db.session.execute(
            select(ComplianceSnapshot.day, ComplianceSnapshot.level, func.count())
            .where(in_ids(ComplianceSnapshot.tenant_id, tenant_ids or [0]), ComplianceSnapshot.day.between(start, on))
            .group_by(ComplianceSnapshot.day, ComplianceSnapshot.level)):
        counts.setdefault(day, {})[level] = n
    peak = max([sum(c.values()) for c in counts.values()] + [1])
    scale = (HEIGHT - TOP - BOTTOM) / peak
    slot = (WIDTH - LEFT - RIGHT) / days
    columns = []
    for index in range(days):
        day = start + dt.timedelta(days=index)
        x = round(LEFT + index * slot + slot * 0.1, 1)
        y = HEIGHT - BOTTOM
        segments = []
        for level in LEVELS:
            n = counts.get(day, {}).get(level, 0)
            height = round(n * scale, 1)
            y = round(y - height, 1)
            segments.append(Segment(level, x, y, round(slot * 0.8, 1), height, n))
        columns.append(Column(day.strftime("%d/%m"), segments, sum(s.count for s in segments)))
    steps = sorted({0, peak // 2, peak})
    return LevelsChart(columns, [(n, round(HEIGHT - BOTTOM - n * scale, 1)) for n in steps])


@dataclass(frozen=True)
class CheckBar:
    rule: str
    label: str
    segments: list[Segment]


def distribution_by_check(rows, rules) -> list[CheckBar]:
    """For each check, the share of agencies by result, as a 100-wide horizontal bar."""
    return distribution(Counter((key, str(r.checks[key].result)) for r in rows for key, _label, _rule in rules),
                        len(rows), rules)


def distribution(tally: dict[tuple[str, str], int], total: int, rules) -> list[CheckBar]:
    """The bars of :func:`distribution_by_check` from a tally (rule, result) -> agencies."""
    bars = []
    total = total or 1
    for key, label, _rule in rules:
        x = 0.0
        segments = []
        for result in RESULTS:
            n = tally.get((key, result), 0)
            width = round(100 * n / total, 2)
            segments.append(Segment(result, x, 0, width, 1, n))
            x = round(x + width, 2)
        bars.append(CheckBar(key, str(label), segments))
    return bars

"""Charts drawn by the app itself as SVG (no script, no CDN): geometry here, shapes in the template."""
from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 30


@dataclass(frozen=True)
class Bar:
    month: int  # the first month of the period
    value: float | None
    x: float
    y: float
    width: float
    height: float
    label_x: float
    last_month: int = 0

    @property
    def label(self) -> str:
        return f"{self.month:02d}" if self.last_month in (0, self.month) else f"{self.month:02d}–{self.last_month:02d}"


@dataclass(frozen=True)
class MonthChart:
    bars: list[Bar]
    gridlines: list[tuple[int, float]]  # (percent, y)
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT

    @property
    def empty(self) -> bool:
        return all(bar.value is None for bar in self.bars)

    @property
    def months(self) -> list[tuple[int, float]]:
        """Each month's label and its x (the axis under the bars)."""
        slot = (WIDTH - LEFT - RIGHT) / 12
        return [(m, round(LEFT + (m - 0.5) * slot, 1)) for m in range(1, 13)]


def _y(percent: float) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - percent / 100), 1)


def month_chart(periods: list[tuple[int, int, float | None]]) -> MonthChart:
    """Percentages of reporting periods, (first month, last month, value), as bars on a 0–100% scale
    over the twelve months of the year: a quarter reported as one is one bar as wide as its months."""
    slot = (WIDTH - LEFT - RIGHT) / 12
    bars = []
    for first, last, value in periods:
        x = LEFT + (first - 1) * slot + slot * 0.15
        width = slot * (last - first + 1) - slot * 0.3
        top = _y(value) if value is not None else HEIGHT - BOTTOM
        bars.append(Bar(first, value, round(x, 1), top, round(width, 1), round(HEIGHT - BOTTOM - top, 1),
                        round(x + width / 2, 1), last))
    return MonthChart(bars, [(p, _y(p)) for p in (0, 25, 50, 75, 100)])

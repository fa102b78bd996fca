"""Charts drawn by the app itself as SVG (no script, no CDN): geometry here, shapes in the template."""
from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 30


@dataclass(frozen=True)
class Bar:
    month: int
    value: float | None
    x: float
    y: float
    width: float
    height: float
    label_x: float


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


def _y(percent: float) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - percent / 100), 1)


def month_chart(values: list[float | None]) -> MonthChart:
    """Twelve monthly percentages (None: no data) as bars on a 0–100% scale."""
    slot = (WIDTH - LEFT - RIGHT) / 12
    bars = []
    for index, value in enumerate(values):
        x = LEFT + index * slot + slot * 0.15
        top = _y(value) if value is not None else HEIGHT - BOTTOM
        bars.append(Bar(index + 1, value, round(x, 1), top, round(slot * 0.7, 1), round(HEIGHT - BOTTOM - top, 1),
                        round(x + slot * 0.35, 1)))
    return MonthChart(bars, [(p, _y(p)) for p in (0, 25, 50, 75, 100)])

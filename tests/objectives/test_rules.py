"""Achievement and status, with numbers worked by hand."""
from __future__ import annotations

import datetime as dt

import pytest

from govqms.objectives.rules import achievement, judge, met, periods


@pytest.mark.parametrize("value, target, comparator, expected, is_met", [
    (95, 100, ">=", 95.0, False),       # 95 / 100
    (100, 100, ">=", 100.0, True),
    (120, 100, ">=", 100.0, True),      # capped
    (0, 0, ">=", 100.0, True),          # a target of 0 is met by anything ≥ 0
    (3, 5, "<=", 100.0, True),          # at most 5 complaints, 3 received
    (8, 5, "<=", 62.5, False),          # 5 / 8
    (0, 0, "<=", 100.0, True),
    (2, 0, "<=", 0.0, False),           # none allowed, 2 happened
    (12, 12, "=", 100.0, True),
    (9, 12, "=", 75.0, False),          # 1 − 3/12
    (15, 12, "=", 75.0, False),         # 1 − 3/12
    (30, 12, "=", 0.0, False),          # gap larger than the target: floored at 0
])
def test_achievement_by_comparator(value, target, comparator, expected, is_met):
    assert achievement(value, target, comparator) == expected
    assert met(value, target, comparator) is is_met


def test_periods_by_frequency():
    assert [p.index for p in periods(2025, "monthly")] == list(range(1, 13))
    q = periods(2025, "quarterly")
    assert (q[0].first_day, q[0].last_day, q[3].last_day) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31),
                                                              dt.date(2025, 12, 31))
    assert periods(2024, "half_year")[0].last_day == dt.date(2024, 6, 30)
    assert periods(2024, "monthly")[1].last_day == dt.date(2024, 2, 29)  # leap year
    assert len(periods(2025, "year")) == 1


class TestStatus:
    def test_on_track_mid_year(self):
        j = judge(2025, "quarterly", 100, ">=", {1: 100, 2: 100}, dt.date(2025, 8, 1))
        assert j.status == "on_track" and j.latest_value == 100 and j.achievement == 100

    def test_latest_value_below_target_is_at_risk(self):
        j = judge(2025, "quarterly", 100, ">=", {1: 100, 2: 96.5}, dt.date(2025, 8, 1))
        assert j.status == "at_risk" and "96.5" in j.reason and j.achievement == 96.5

    def test_missing_measurement_for_a_due_period_is_at_risk(self):
        # Q1 and Q2 have ended (today 01/08); only Q1 is measured
        j = judge(2025, "quarterly", 100, ">=", {1: 100}, dt.date(2025, 8, 1))
        assert j.status == "at_risk" and "2/2025" in j.reason

    def test_period_not_yet_ended_is_not_missing(self):
        # Q3 runs until 30/09: not due on 01/08
        assert judge(2025, "quarterly", 100, ">=", {1: 100, 2: 100}, dt.date(2025, 8, 1)).status == "on_track"
        # the last day itself is still inside the period
        assert judge(2025, "monthly", 5, "<=", {}, dt.date(2025, 1, 31)).status == "on_track"
        assert judge(2025, "monthly", 5, "<=", {}, dt.date(2025, 2, 1)).status == "at_risk"

    def test_nothing_due_yet(self):
        j = judge(2026, "year", 100, ">=", {}, dt.date(2026, 5, 1))
        assert j.status == "on_track" and j.latest_value is None

    def test_year_over_achieved(self):
        j = judge(2024, "half_year", 5, "<=", {1: 7, 2: 4}, dt.date(2025, 1, 10))
        assert j.status == "on_track" and j.latest_value == 4  # judged on the latest value

    def test_year_over_missed(self):
        j = judge(2024, "half_year", 5, "<=", {1: 3, 2: 6}, dt.date(2025, 1, 10))
        assert j.status == "missed" and j.achievement == pytest.approx(83.3)  # 5 / 6

    def test_year_over_without_any_measurement_is_missed(self):
        assert judge(2024, "year", 100, ">=", {}, dt.date(2025, 1, 1)).status == "missed"

    def test_equal_target(self):
        assert judge(2024, "year", 12, "=", {1: 12}, dt.date(2025, 1, 1)).status == "on_track"
        assert judge(2024, "year", 12, "=", {1: 11}, dt.date(2025, 1, 1)).status == "missed"

"""The dashboard's daily chart: its y axis counts cases, so every value it writes is a whole number."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from itertools import pairwise

import pytest

from gridline.console.chart import daily_chart
from gridline.console.metrics import DailyCounts


def axis_values(most_in_a_day: int) -> list[str]:
    day = date(2026, 12, 3)
    data = DailyCounts([day], ["noise"], {day: Counter(noise=most_in_a_day)})
    svg = str(daily_chart(data, label=str, link=lambda d, c: "#", title="cases"))
    return re.findall(r'<text class="axis" x="[\d.]+" y="[\d.]+" text-anchor="end">([^<]*)</text>', svg)


@pytest.mark.parametrize("most", [1, 2, 3, 4, 5, 7, 12, 37, 140])
def test_the_y_axis_writes_whole_case_counts_from_zero_to_the_top(most: int) -> None:
    values = axis_values(most)
    assert values[0] == "0"
    assert all(v.isdigit() for v in values), values  # 「3.8」 cases a day means nothing
    assert int(values[-1]) >= most
    steps = {int(b) - int(a) for a, b in pairwise(values)}
    assert len(steps) == 1  # evenly spaced

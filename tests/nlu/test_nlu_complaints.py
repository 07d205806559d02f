"""A complaint about a grid worker or official is read as such — not as "who is my grid leader?"."""

from __future__ import annotations

import pytest

from gridline.nlu.complaints import complaint_about_staff


@pytest.mark.parametrize(
    "text",
    ["网格长一直不接电话，太不负责了", "我要投诉网格员", "社区工作人员态度很差", "网格员根本没来就说办结了",
     "网格长推来推去不给办", "The grid leader never answers the phone", "I want to complain about the grid worker"],
)
def test_complaints_about_staff_are_read(text: str) -> None:
    assert complaint_about_staff(text)


@pytest.mark.parametrize(
    "text",
    ["我的网格长是谁", "找网格长", "物业不管，楼道灯坏了一个月", "社区物业态度很差", "楼道里的灯坏了", "", None,
     "谢谢网格员，修得很快"],
)
def test_other_words_are_not(text: str | None) -> None:
    assert not complaint_about_staff(text)

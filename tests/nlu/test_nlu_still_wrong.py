"""Words about the problem after a report: still there (「灯还是不亮啊」), or gone (「电来了」)."""

from __future__ import annotations

import pytest

from gridline.nlu.solved_words import gone_in_words, still_wrong


@pytest.mark.parametrize(
    "text", ["灯还是不亮啊", "还是漏", "水还没来", "仍然停电", "it's still broken", "Still no water"]
)
def test_the_problem_still_there_is_read(text: str) -> None:
    assert still_wrong(text)


@pytest.mark.parametrize(
    "text",
    ["又停水了", "还有楼道里的垃圾好几天没人收了", "谢谢，修好了", "", None,
     "we still have a question about the bill, who pays"],
)
def test_other_words_are_not(text: str | None) -> None:
    assert not still_wrong(text)


def test_a_long_report_is_not_an_answer() -> None:
    assert not still_wrong("楼道里的灯还是不亮，已经一个多星期了，物业说报了修也没人来，晚上老人上下楼太危险了")


@pytest.mark.parametrize(
    "text",
    ["不用来了，水已经来了", "电来了", "没事了，已经好了", "现在来水了", "灯又亮了", "不用派人了",
     "Never mind, the power is back", "it's working again now", "no need to come, the water is back"],
)
def test_words_saying_the_problem_went_away_are_read(text: str) -> None:
    assert gone_in_words(text)


@pytest.mark.parametrize(
    "text",
    ["停水了", "水来了，但是是黄的", "灯还是不亮", "又停电了", "电梯坏了好几天了", "the water is still off", "",
     "昨天停水，今天早上水来了一会儿又停了，到现在还没有来，家里老人孩子都等着用水"],
)
def test_reports_are_not_the_problem_gone(text: str) -> None:
    assert not gone_in_words(text)

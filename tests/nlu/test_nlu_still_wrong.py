"""「灯还是不亮啊」 after "问题真的解决了吗？": words that say the problem is still there."""

from __future__ import annotations

import pytest

from gridline.nlu.solved_words import still_wrong


@pytest.mark.parametrize("text", ["灯还是不亮啊", "还是漏", "水还没来", "仍然停电", "it's still broken", "Still no water"])
def test_the_problem_still_there_is_read(text: str) -> None:
    assert still_wrong(text)


@pytest.mark.parametrize(
    "text",
    ["又停水了", "还有楼道里的垃圾好几天没人收了", "谢谢，修好了", "", None, "we still have a question about the bill, who pays"],
)
def test_other_words_are_not(text: str | None) -> None:
    assert not still_wrong(text)


def test_a_long_report_is_not_an_answer() -> None:
    assert not still_wrong("楼道里的灯还是不亮，已经一个多星期了，物业说报了修也没人来，晚上老人上下楼太危险了")

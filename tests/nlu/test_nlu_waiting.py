"""A resident waiting for someone asks when they will come — a question about their case, never an
emergency: 「来人」 or "someone come" alone is no danger (docs/nlu.md, "Waiting is not an emergency").
The sentences are not in the training data."""

from __future__ import annotations

import pytest

from gridline.nlu.embedded import EmbeddedEngine
from gridline.nlu.priority import assess_priority


@pytest.mark.parametrize(
    "message",
    ["维修的人几点到", "师傅啥时候能过来", "还得等几天啊", "when is somebody coming over", "when will someone come?"],
)
async def test_asking_when_someone_comes_is_a_status_question_not_an_emergency(
    engine: EmbeddedEngine, message: str
) -> None:
    result = await engine.parse(message)
    assert result.intent == "check_status", (result.intent, result.confidence)
    assert assess_priority(result).priority == "normal"


@pytest.mark.parametrize("message", ["快来人！三楼厨房冒黑烟了", "电梯里困住人了快来人", "有人晕倒了，快来人"])
async def test_come_quickly_with_a_danger_is_still_an_emergency(engine: EmbeddedEngine, message: str) -> None:
    result = await engine.parse(message)
    assert assess_priority(result).priority == "emergency", (result.intent, result.confidence)

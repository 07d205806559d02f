"""What every NLU engine must get right, shared by the embedded and the Rasa contract tests."""

from __future__ import annotations

# (resident's text, acceptable intents)
TYPICAL_SENTENCES: list[tuple[str, set[str]]] = [
    ("俺们楼从昨天就没水了咋弄", {"water_supply"}),
    ("电梯里困住人了快来人", {"elevator", "emergency"}),
    ("找网格长", {"find_leader"}),
    ("老是跳闸，保险丝烧了", {"power_supply"}),
    ("楼上天天半夜剁东西，吵得睡不着", {"noise"}),
    ("楼道里有人给电动车充电", {"safety_hazard"}),
    ("着火了快来人", {"emergency"}),
    ("谢谢恁", {"thanks"}),
]

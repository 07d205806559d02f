"""The department-loop SMS grammar as a table: what each text means, and what is not one."""

from __future__ import annotations

import pytest

from gridline.routing.loop_grammar import LoopText, parse_loop_text


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("签收12", LoopText("accept", 12)),
        ("12签收", LoopText("accept", 12)),
        ("签收１２。", LoopText("accept", 12, rest="。")),
        ("accept 12", LoopText("accept", 12)),
        ("回单12 已更换管段", LoopText("reply", 12, rest="已更换管段")),
        ("回单12已修复", LoopText("reply", 12, rest="已修复")),
        ("reply sewage cleared", LoopText("reply", None, rest="sewage cleared")),
        ("退单12 2 应由物业处理", LoopText("return", 12, rest="2 应由物业处理")),
        ("转办 W4RGMD 主管破裂", LoopText("transfer", None, "W4RGMD", "主管破裂")),
        ("转办W4RGMD", LoopText("transfer", None, "W4RGMD")),
        ("转办 7ABCDE", LoopText("transfer", None, "7ABCDE")),
        ("transfer w4rgmd", LoopText("transfer", None, None, "w4rgmd")),  # lower case: not a reference
        ("通过3", LoopText("approve", 3)),
        ("驳回3 照片看不清", LoopText("reject", 3, rest="照片看不清")),
        ("延期12 3 等配件", LoopText("extend", 12, rest="3 等配件")),
        ("同意12", LoopText("grant", 12)),
        ("不同意12 太久", LoopText("refuse", 12, rest="太久")),
        ("refuse 4", LoopText("refuse", 4)),
    ],
)
def test_loop_texts(text: str, parsed: LoopText) -> None:
    assert parse_loop_text(text) == parsed


@pytest.mark.parametrize("text", ["12", "12a", "完成12", "12 马上到", "acceptable", "", None, "走访 3-2-501 正常"])
def test_other_texts_are_not_loop_texts(text: str | None) -> None:
    assert parse_loop_text(text) is None

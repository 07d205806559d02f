"""An import's summary reads as one sentence in the reader's language: Chinese clauses are joined
with a full-width comma, English ones with ", "."""

from __future__ import annotations

from gridline.importers import ImportSummary


def test_a_summary_joins_its_clauses_in_the_readers_language() -> None:
    summary = ImportSummary(kind="households", source="roster.csv", created=3, updated=2, left=1, encoding="gbk")
    assert summary.text("zh-CN") == (
        "住户（roster.csv）：新增 3 条，更新 2 条，1 人不再列出（已停用，未问的平安守护已取消），按 gbk 编码读取"
    )
    english = summary.text("en")
    assert english.endswith("1 people no longer listed (marked removed, their check-ins not yet asked cancelled), "
                            "decoded as gbk")

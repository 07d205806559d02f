"""Explanations are codes and facts, rendered in the reader's language."""

from __future__ import annotations

from string import Formatter

import pytest

from gridline.domain.explanations import Reason, because, priority_because, why
from gridline.domain.privacy import mask_text
from gridline.i18n import LANGUAGES, catalogue
from gridline.i18n.explanations import explain, reason_text


def _fields(code: Reason) -> set[str]:
    entry = catalogue()[f"explain.reason.{code.value}"]
    return {name for text in entry.values() for _, name, _, _ in Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("code", list(Reason))
def test_every_reason_reads_in_every_language(code: Reason, lang: str) -> None:
    entry = catalogue().get(f"explain.reason.{code.value}")
    assert entry is not None and all(entry.get(language) for language in LANGUAGES)
    text = reason_text(why(code, **{name: "X1" for name in _fields(code)}), lang)
    assert text and "{" not in text


def test_a_step_lists_whom_it_reached_and_why_in_the_readers_language() -> None:
    entry = because("paged", Reason.STEP_PAGED, round=1, step=1)
    entry["people"] = [{"name": "龙晓燕", "why": why(Reason.ON_DUTY, grid="ZY01-01-1", at="2026-01-01T10:00+08:00")}]
    assert explain(entry, "en") == "Round 1, step 1: 龙晓燕 (leader on duty in ZY01-01-1 at 01-01 10:00)"
    assert "值班网格长" in explain(entry, "zh-CN")


def test_categories_and_confidences_are_shown_as_people_read_them() -> None:
    entry = because("category", Reason.NLU_SURE, intent="water_supply", confidence=0.9123, threshold=0.6)
    assert explain(entry, "zh-CN") == "识别为「供水」，置信度 0.91 ≥ 0.60"
    assert "0.91" in explain(entry, "en")


def test_a_fact_removed_by_retention_shows_as_a_dash() -> None:
    entry = because("grid", Reason.ADDRESS_MATCHED, how="alias")  # the address was purged
    assert explain(entry, "en").endswith(": —")


def test_an_entry_written_as_prose_before_codes_still_reads() -> None:
    assert explain({"decision": "grid", "reason": "the resident's registered grid"}, "en") == (
        "the resident's registered grid"
    )


def test_priority_says_which_rules_fired_or_that_none_did() -> None:
    assert explain(priority_because(["fire: 着火 → emergency"]), "en") == "By rule: fire: 着火 → emergency"
    assert explain(priority_because([]), "en") == "No rule matched: normal"


def test_the_moment_someone_was_on_duty_reads_as_a_local_time_not_a_stamp() -> None:
    """A UTC stamp with microseconds was long enough to be masked as a phone number in the console."""
    moment = why(Reason.ON_DUTY, grid="ZY01-01-1", at="2026-12-01T22:00:48.228602+08:00")
    assert reason_text(moment, "zh-CN") == "ZY01-01-1 网格 12-01 22:00 值班网格长"
    # The grid code's digits and the time's together were eleven digits: masked as a phone number.
    for lang in ("zh-CN", "en"):
        for code in (Reason.ON_DUTY, Reason.BACKUP_ON_DUTY):
            text = reason_text(why(code, grid="ZY01-01-1", at="2026-12-01T22:00+08:00"), lang)
            assert mask_text(text) == text

"""Facts stored with events and explanations read as labels, not codes, in the console."""

from __future__ import annotations

from gridline.console.rendering import visible_items


def test_codes_become_their_labels_and_rounds_count_from_one() -> None:
    data = {"category": "water_supply", "priority": "normal", "notify": "on_duty_leader", "round": 0, "step": 0,
            "grid": "ZY01-01-1", "triage": False}
    assert dict(visible_items(data, "zh-CN")) == {
        "category": "供水", "priority": "一般", "notify": "值班网格长", "round": "1", "step": "1",
        "grid": "ZY01-01-1", "triage": "✗",
    }
    assert dict(visible_items(data, "en"))["notify"] == "leader on duty"


def test_an_intent_ranking_shows_category_names_with_confidences() -> None:
    ranking = [{"name": "water_supply", "confidence": 0.99}, {"name": "greet", "confidence": 0.0}]
    assert dict(visible_items({"ranking": ranking}, "zh-CN"))["ranking"] == "供水 0.99, greet 0.00"


def test_a_code_without_a_label_is_shown_as_stored() -> None:
    assert dict(visible_items({"category": "something_new"}, "en")) == {"category": "something_new"}


def test_a_list_of_codes_shows_each_label() -> None:
    """A paging step's targets are stored as a list: 值班网格长, 备班人员 — not on_duty_leader."""
    data = {"notify": ["on_duty_leader", "backup", "something_new"]}
    assert dict(visible_items(data, "zh-CN"))["notify"] == "值班网格长、备班人员、something_new"
    assert dict(visible_items(data, "en"))["notify"] == "leader on duty, backup, something_new"

"""Each rule of the priority table, proved on a sentence a resident could send."""

from __future__ import annotations

import pytest

from gridline.nlu.priority import RULES, assess_priority
from gridline.nlu.types import NluResult


def result(text: str, intent: str, confidence: float = 0.9) -> NluResult:
    return NluResult(text=text, intent=intent, confidence=confidence)


@pytest.mark.parametrize(
    ("rule", "text", "intent", "confidence", "priority"),
    [
        ("emergency_intent", "快来人啊出事了", "emergency", 0.8, "emergency"),
        ("possible_emergency", "出事了", "emergency", 0.2, "urgent"),
        ("fire", "楼道里着火了", "safety_hazard", 0.9, "emergency"),
        ("fire", "fire in the kitchen", "emergency", 0.1, "emergency"),
        ("gas_leak", "燃气泄漏了味可大", "gas_heating", 0.9, "emergency"),
        ("person_in_danger", "楼下有个老人晕倒了", "elderly_care", 0.9, "emergency"),
        ("violence", "楼下有人拿刀打架", "public_order", 0.9, "emergency"),
        ("trapped_in_elevator", "电梯里困住人了快来人", "elevator", 0.9, "emergency"),
        ("trapped_in_elevator", "someone is trapped in the lift", "public_order", 0.5, "emergency"),
        ("trapped", "孩子被困在屋里出不来", "public_order", 0.9, "urgent"),
        ("electrical_danger", "电表箱冒烟了", "power_supply", 0.9, "urgent"),
        ("burst_pipe", "小区水管爆了水哗哗流", "water_supply", 0.9, "urgent"),
        ("long_outage", "俺们楼好几天没水了", "water_supply", 0.9, "urgent"),
        ("long_outage", "三天了都没电", "power_supply", 0.9, "urgent"),
        ("vulnerable_person", "独居老人家里暖气不热", "gas_heating", 0.9, "urgent"),
        ("structural_danger", "外墙的砖掉下来了", "safety_hazard", 0.9, "urgent"),
        ("urgent_words", "下水道堵了，紧急", "drainage", 0.9, "urgent"),
    ],
)
def test_each_rule_raises_the_priority(rule: str, text: str, intent: str, confidence: float, priority: str) -> None:
    decision = assess_priority(result(text, intent, confidence))
    assert decision.priority == priority
    assert any(reason.startswith(f"{rule}:") for reason in decision.reasons), decision.reasons


def test_every_rule_in_the_table_is_exercised_above() -> None:
    # Keeps the table and its tests together: a new rule needs a case in the list above.
    tested = {
        "emergency_intent",
        "possible_emergency",
        "fire",
        "gas_leak",
        "person_in_danger",
        "violence",
        "trapped_in_elevator",
        "trapped",
        "electrical_danger",
        "burst_pipe",
        "long_outage",
        "vulnerable_person",
        "structural_danger",
        "urgent_words",
    }
    assert {rule.name for rule in RULES} == tested


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("路灯坏了", "road_facility"),
        ("燃气灶打不着火", "gas_heating"),  # a stove that won't light is not a fire
        ("楼上小孩天天跑跳", "noise"),  # a child as the source of noise is not a vulnerable person
        ("垃圾桶都满爆了", "sanitation"),
        ("谢谢", "thanks"),
        ("", "nlu_fallback"),
    ],
)
def test_ordinary_reports_are_normal(text: str, intent: str) -> None:
    decision = assess_priority(result(text, intent))
    assert decision.priority == "normal", decision.reasons
    assert decision.reasons == []


def test_the_highest_priority_wins_and_every_reason_is_listed() -> None:
    decision = assess_priority(result("电梯里困住人了，老人晕倒了，紧急", "elevator"))
    assert decision.priority == "emergency"
    names = [reason.split(":")[0] for reason in decision.reasons]
    assert {"trapped_in_elevator", "person_in_danger", "urgent_words", "trapped"} <= set(names)


def test_cues_are_found_in_full_width_and_upper_case_text() -> None:
    assert assess_priority(result("ＦＩＲＥ ON FLOOR 3", "emergency", 0.1)).priority == "emergency"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("天然气管子漏了，满屋都是味", "gas_leak"),
        ("I smell gas in the stairwell", "gas_leak"),
        ("有人要跳楼", "person_in_danger"),
        ("俺爸突然说不出话了", "person_in_danger"),  # a stroke, whatever the category
        ("奶奶半边身子动不了了", "person_in_danger"),
        ("俺妈心脏病犯了，喘不上气", "person_in_danger"),
        ("小孩被锁车里了", "person_in_danger"),
        ("一氧化碳中毒，一家三口都晕了", "person_in_danger"),
        ("someone is having a heart attack", "person_in_danger"),
    ],
)
def test_emergencies_are_recognised_whatever_category_the_classifier_chose(text: str, rule: str) -> None:
    decision = assess_priority(result(text, "gas_heating", 0.9))
    assert decision.priority == "emergency"
    assert any(reason.startswith(f"{rule}:") for reason in decision.reasons), decision.reasons


def test_an_elevator_that_does_not_move_is_not_a_person_in_danger() -> None:
    assert assess_priority(result("电梯停在一楼不动了", "elevator")).priority == "normal"


def test_someone_who_fell_in_is_an_emergency_a_worry_about_falling_in_is_not() -> None:
    assert assess_priority(result("孩子掉进池塘里了", "emergency", 0.2)).priority == "emergency"
    worry = assess_priority(result("池塘没有护栏，小孩掉进去咋办", "safety_hazard"))
    assert worry.priority != "emergency"
    assert not any(reason.startswith("person_in_danger") for reason in worry.reasons)

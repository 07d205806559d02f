"""A message with two problems is two clauses; one problem's description is never cut
(gridline/nlu/clauses.py), and only clauses the model is sure of are problems of their own."""

from __future__ import annotations

import pytest

from gridline.nlu.clauses import MOST_CLAUSES, problems_in, split_clauses
from gridline.nlu.embedded import EmbeddedEngine
from gridline.nlu.types import IntentScore, NluResult


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("楼道里漏水，还有车堵门", ["楼道里漏水", "车堵门"]),
        ("停水了，另外电梯也坏了", ["停水了", "电梯也坏了"]),
        ("停水了另外，电梯也坏了", ["停水了另外，电梯也坏了"]),  # 另外 at no clause start: no join
        ("停水了 另外电梯坏了", ["停水了", "电梯坏了"]),
        ("路灯不亮。顺便说一下，楼下的垃圾没人收", ["路灯不亮", "楼下的垃圾没人收"]),
        ("停水了，同时电梯也坏了", ["停水了", "电梯也坏了"]),
        ("电梯坏了，再就是楼道灯也不亮", ["电梯坏了", "楼道灯也不亮"]),
        ("电梯坏了，另一个问题是门禁打不开", ["电梯坏了", "门禁打不开"]),
        ("停水了。已经三天了。", ["停水了", "已经三天了"]),
        ("停水了！电梯也坏了？", ["停水了", "电梯也坏了"]),
        ("停水了\n电梯坏了", ["停水了", "电梯坏了"]),
        ("No water, also the lift is broken", ["No water", "the lift is broken"]),
        ("The lift is broken and another thing: the light is out", ["The lift is broken", "the light is out"]),
        ("No water. Plus the lift is stuck", ["No water", "the lift is stuck"]),
    ],
)
def test_a_message_is_cut_at_the_joins_that_open_another_matter(text: str, clauses: list[str]) -> None:
    assert split_clauses(text) == clauses


@pytest.mark.parametrize(
    "text",
    [
        "水管爆了，水漫到楼道里了",  # one problem told in two clauses
        "俺们楼从昨天就没水了咋弄",
        "楼上还有人在装修吗",  # 还有 inside a clause
        "电梯坏了，还有人被困在里面",  # 还有人: "someone is still in there", the same danger
        "停水三天了，还有没有人管",
        "垃圾堆在门口，还有点臭",
        "顺便说一下，楼下的路灯不亮",  # a join word before the only matter
        "另外一栋楼也停水了",  # a join word at the start of the message: nothing before it
        "同时两台电梯都坏了",  # 同时 without 也 / 还: "both at once"
        "I also have no water",  # "also" inside a sentence
        "The water is 3.5 metres deep in the basement",
        "小区门口的路灯坏了好几天了，晚上出门很不方便",
        "",
    ],
)
def test_one_problems_description_is_never_cut(text: str) -> None:
    assert split_clauses(text) == [text.strip()]


def test_a_long_message_is_classified_in_at_most_so_many_clauses() -> None:
    clauses = split_clauses("。".join(f"第{n}件事" for n in range(1, 10)))
    assert len(clauses) == MOST_CLAUSES
    assert clauses[-1].startswith(f"第{MOST_CLAUSES}件事") and clauses[-1].endswith("第9件事")


def read(text: str, intent: str, confidence: float) -> NluResult:
    return NluResult(text=text, intent=intent, confidence=confidence, ranking=[IntentScore(intent, confidence)])


def test_two_confident_categories_are_two_problems_each_with_its_own_words() -> None:
    found = problems_in([read("楼道里漏水", "water_supply", 0.77), read("车堵门", "public_order", 0.6)], 0.45)
    assert [(p.category, p.summary) for p in found] == [("water_supply", "楼道里漏水"), ("public_order", "车堵门")]


def test_clauses_of_one_category_are_one_problem() -> None:
    found = problems_in([read("水管爆了", "water_supply", 1.0), read("水漫到楼道里了", "water_supply", 0.9)], 0.45)
    assert found == []


def test_a_clause_the_model_is_unsure_of_goes_with_the_problem_before_it() -> None:
    found = problems_in(
        [
            read("你好", "greet", 0.9),
            read("电梯坏了", "elevator", 1.0),
            read("停水了", "water_supply", 1.0),
            read("已经三天了", "water_supply", 0.3),
            read("麻烦尽快", "nlu_fallback", 0.2),
        ],
        0.45,
    )
    assert [(p.category, p.summary) for p in found] == [
        ("elevator", "你好；电梯坏了"),
        ("water_supply", "停水了；已经三天了；麻烦尽快"),
    ]


def test_an_unsure_second_clause_leaves_the_message_one_problem() -> None:
    assert problems_in([read("楼道里漏水", "water_supply", 0.77), read("车堵门", "public_order", 0.3)], 0.45) == []
    assert problems_in([read("停水了", "water_supply", 1.0), read("谢谢", "thanks", 0.99)], 0.45) == []


def test_at_most_three_problems_the_rest_goes_with_the_one_before() -> None:
    found = problems_in(
        [read("停水了", "water_supply", 1.0), read("电梯坏了", "elevator", 1.0), read("楼上太吵", "noise", 1.0),
         read("路灯不亮", "road_facility", 1.0), read("电梯还响", "elevator", 0.9)],
        0.45,
    )  # fmt: skip
    assert [(p.category, p.summary) for p in found] == [
        ("water_supply", "停水了"), ("elevator", "电梯坏了；电梯还响"), ("noise", "楼上太吵；路灯不亮"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "categories"),
    [
        ("停水了，另外电梯也坏了", ["water_supply", "elevator"]),
        ("水管爆了，水漫到楼道里了", []),
        ("俺们楼从昨天就没水了咋弄。已经两天了", []),
    ],
)
def test_the_embedded_model_reads_the_clauses(engine: EmbeddedEngine, text: str, categories: list[str]) -> None:
    found = problems_in([engine.parse_sync(c) for c in split_clauses(text)], 0.45)
    assert [p.category for p in found] == categories

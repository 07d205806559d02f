"""Who fixes a light decides its category (docs/nlu.md, Taxonomy): the lights of a residential
building and its compound (楼道灯, 声控灯, the stairwell's) are the property company's (物业),
``property_management``; lamps on public roads (路灯, 红绿灯) are the city's (市政), ``road_facility``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gridline.nlu.embedded import EmbeddedEngine
from gridline.nlu.training_data import load_nlu_yaml

# A building's own lights, as residents name them.
BUILDING_LIGHT = re.compile(r"楼道.{0,4}灯|声控灯|楼梯.{0,4}灯|照明灯")


@pytest.mark.parametrize(
    "text",
    ["3号楼楼道的灯不亮了", "楼梯间的声控灯坏了好几天", "单元楼道里黑乎乎的，灯坏了没人换", "俺们单元的楼道灯又灭了"],
)
def test_a_light_in_a_residential_building_is_the_property_companys(engine: EmbeddedEngine, text: str) -> None:
    assert engine.parse_sync(text).intent == "property_management"


@pytest.mark.parametrize("text", ["马路上的路灯晚上不亮", "街上的路灯坏了一排", "路口的红绿灯不亮了"])
def test_a_street_lamp_is_a_road_facility(engine: EmbeddedEngine, text: str) -> None:
    assert engine.parse_sync(text).intent == "road_facility"


def test_the_training_data_teaches_building_lights_as_property_only(train_file: Path) -> None:
    """Not as a road facility or a power cut (a quarrel over one, or fire-safety lighting, stays
    with its own convention: the dispute, the danger)."""
    taught = {ex.intent for ex in load_nlu_yaml(train_file).examples if BUILDING_LIGHT.search(ex.text)}
    assert "property_management" in taught
    assert taught <= {"property_management", "neighbor_dispute", "safety_hazard"}, taught

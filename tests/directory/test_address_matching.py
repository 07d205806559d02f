"""Matching addresses the way residents write them, against the demo address directory."""

from __future__ import annotations

import pytest

from gridline.routing.addresses import AddressMatcher, chinese_numeral_value, normalize_address
from gridline.routing.directory import Directory
from gridline.storage.db import Database
from gridline.storage.models import Address

TONGBAI = "郑州市中原区桐柏路199号院"
YINGHE = "郑州市中原区颍河路56号院"


@pytest.fixture
def matcher(demo_db: Database) -> AddressMatcher:
    return Directory(demo_db).address_matcher()


@pytest.mark.parametrize(
    ("text", "how"),
    [
        ("郑州市中原区桐柏路199号院", "exact"),
        ("桐柏路199号院", "exact"),  # no city / district
        ("河南省郑州市桐柏路199号", "exact"),  # 号 instead of 号院
        ("桐柏路１９９号院", "exact"),  # full-width digits
        ("桐柏路 199 号院", "exact"),  # spaces
        ("桐柏路一百九十九号院", "exact"),  # Chinese numerals
        ("桐柏路一九九号", "exact"),  # digit by digit
        ("桐柏路199院", "exact"),
        ("俺们桐柏路199号院3号楼停水了", "road_number"),  # inside a sentence
        ("桐柏199号院", "road_stem"),  # the road word left out
        ("同柏路199号院", "fuzzy_road"),  # a wrong character
        ("桐柏苑", "alias"),  # the compound's common name
        ("自来水公司家属院那边没水了", "alias"),
    ],
)
def test_the_seed_compound_is_found_however_it_is_written(matcher: AddressMatcher, text: str, how: str) -> None:
    match = matcher.match(text)
    assert match is not None, text
    assert (match.address, match.grid_code, match.how) == (TONGBAI, "ZY01-01-1", how)


def test_building_unit_and_room_are_kept_as_detail(matcher: AddressMatcher) -> None:
    match = matcher.find_in_text("颍河路五十六号院2号楼1单元301室的保险丝烧了")
    assert match is not None
    assert (match.address, match.detail) == (YINGHE, "2栋1单元301室")
    hashed = matcher.find_in_text("颍河路56号院3#楼")
    assert hashed is not None and hashed.detail == "3栋"


def test_scores_rank_exact_over_alias_over_fuzzy(matcher: AddressMatcher) -> None:
    exact, alias, fuzzy = matcher.match(TONGBAI), matcher.match("桐柏苑"), matcher.match("同柏路199号")
    assert exact and alias and fuzzy
    assert exact.score > alias.score > fuzzy.score


def test_a_compound_name_with_one_wrong_character_is_a_weak_fuzzy_match(matcher: AddressMatcher) -> None:
    match = matcher.match("红松嘉苑")  # directory: 红松嘉园
    assert match is not None and match.how == "fuzzy_alias" and match.compound == "红松嘉园"
    assert match.score < 0.8


def test_a_number_that_does_not_exist_on_the_road_is_not_guessed(matcher: AddressMatcher) -> None:
    assert matcher.match("桐柏路200号院") is None
    assert matcher.match("今天天气不错") is None
    assert matcher.match("") is None


def test_the_same_number_on_two_roads_goes_to_the_road_named() -> None:
    matcher = AddressMatcher([
        Address(id=1, address="郑州市长椿路11号院", normalized="", grid_code="A"),
        Address(id=2, address="郑州市银屏路11号院", normalized="", grid_code="B"),
    ])  # fmt: skip
    match = matcher.find_in_text("我住银屏路11号院")
    assert match is not None and match.grid_code == "B"


def test_an_alias_shared_by_two_compounds_reports_the_other_as_alternative() -> None:
    matcher = AddressMatcher([
        Address(id=1, address="郑州市长椿路11号院", normalized="", grid_code="A", aliases=["电力家属院"]),
        Address(id=2, address="郑州市银屏路15号院", normalized="", grid_code="B", aliases=["电力家属院"]),
    ])  # fmt: skip
    match = matcher.match("电力家属院")
    assert match is not None and match.alternatives == (2,)


def test_normalisation_rules() -> None:
    assert normalize_address("郑州市高新区莲花街１０号院３号楼２单元４０１室") == "莲花街10号3栋2单元401"
    assert normalize_address("高新区石佛办事处红松路9号大院") == "红松路9号"
    assert chinese_numeral_value("一百九十九") == 199
    assert chinese_numeral_value("十二") == 12
    assert chinese_numeral_value("两千零五") == 2005
    assert chinese_numeral_value("五六") == 56


def test_thousands_of_addresses_are_indexed_not_scanned() -> None:
    rows = [
        Address(
            id=i,
            address=f"郑州市合成区纬{i // 50}路{i}号院",
            normalized="",
            grid_code=f"G{i}",
            aliases=[f"合成{i}小区"],
        )
        for i in range(1, 5001)
    ]
    matcher = AddressMatcher(rows)
    match = matcher.find_in_text("纬88路4444号院2号楼漏水")
    assert match is not None and match.grid_code == "G4444" and match.detail == "2栋"
    alias = matcher.find_in_text("合成4321小区停电")
    assert alias is not None and alias.grid_code == "G4321"


@pytest.mark.parametrize(
    "text",
    [
        "Tongbai Road 199, building 3",  # the English catalogue's own example
        "tongbai rd. no. 199",
        "199 Tongbai Road",
        "Tongbailu 199",
        "the elevator at tongbai road 199 building 3 is broken",
    ],
)
def test_an_address_in_pinyin_and_english_words_is_found(matcher: AddressMatcher, text: str) -> None:
    match = matcher.match(text)
    assert match is not None and match.address == TONGBAI


def test_the_building_unit_and_room_of_an_english_address_are_kept(matcher: AddressMatcher) -> None:
    match = matcher.match("Tongbai Road 199, building 3, unit 2, room 401")
    assert match is not None and match.address == TONGBAI
    assert match.detail == "3栋2单元401室"


@pytest.mark.parametrize("text", ["Nowhere Road 199", "hello, is anyone there?", "building 3"])
def test_latin_words_that_name_no_road_of_the_directory_match_nothing(matcher: AddressMatcher, text: str) -> None:
    assert matcher.match(text) is None

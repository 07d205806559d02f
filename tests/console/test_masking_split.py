"""A phone number split by an address match is masked as one number (issue 10)."""

from __future__ import annotations

from gridline.console.rendering import highlight_entities
from gridline.domain.privacy import mask_in_place

TEXT = "电话1381234 567#楼漏水"


def test_a_number_cut_by_an_address_entity_is_still_masked() -> None:
    start = TEXT.index("567")
    html = str(highlight_entities(TEXT, [{"start": start, "end": start + 5, "entity": "address"}], masked=True))
    assert "1381234" not in html and "138" in html and "***" in html
    assert '<mark class="entity" title="address">567#楼' in html  # the tail stays, as with any masked number


def test_unmasked_rendering_keeps_every_digit() -> None:
    start = TEXT.index("567")
    html = str(highlight_entities(TEXT, [{"start": start, "end": start + 5, "entity": "address"}], masked=False))
    assert "1381234 " in html


def test_masking_in_place_keeps_every_position() -> None:
    for text in (TEXT, "找 @wangfang_1960 或 +8613812345678", "没有号码"):
        masked = mask_in_place(text)
        assert len(masked) == len(text)
    assert "wangfang" not in mask_in_place("找 @wangfang_1960")
    assert "13812345678" not in mask_in_place("+8613812345678")

"""Importing grids from GeoJSON: every kind of bad file is refused with a clear error, all-or-nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gridline.importers import ImportFailed
from gridline.importers.geojson import import_grids
from gridline.storage.db import Database
from gridline.storage.models import Grid
from tests.directory.conftest import WriteFile, count


def square(x0: float, y0: float, size: float = 0.01) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]],
    }


def feature(
    code: str, level: int, parent: str | None, geometry: dict[str, Any], name: str | None = None
) -> dict[str, Any]:
    props = {"code": code, "name": name or f"网格{code}", "level": level, "parent": parent}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False)


def city(*extra: dict[str, Any]) -> str:
    """A valid little city: one level-1, one level-2, two base grids side by side, plus ``extra``."""
    return collection(
        feature("A", 1, None, square(113.50, 34.80, 0.02)),
        feature("A-1", 2, "A", square(113.50, 34.80, 0.02)),
        feature(
            "A-1-1",
            3,
            "A-1",
            {
                "type": "Polygon",
                "coordinates": [[[113.50, 34.80], [113.51, 34.80], [113.51, 34.82], [113.50, 34.82], [113.50, 34.80]]],
            },
        ),
        feature(
            "A-1-2",
            3,
            "A-1",
            {
                "type": "Polygon",
                "coordinates": [[[113.51, 34.80], [113.52, 34.80], [113.52, 34.82], [113.51, 34.82], [113.51, 34.80]]],
            },
        ),
        *extra,
    )


def refused(db: Database, path: Any) -> ImportFailed:
    before = count(db, Grid)
    with pytest.raises(ImportFailed) as info:
        import_grids(db, path)
    assert count(db, Grid) == before, "a refused import must write nothing"
    return info.value


def test_a_valid_city_is_imported_and_reimport_updates_in_place(empty_db: Database, write_file: WriteFile) -> None:
    path = write_file("city.geojson", city())
    first = import_grids(empty_db, path)
    again = import_grids(empty_db, path)
    assert (first.created, first.updated) == (4, 0)
    assert (again.created, again.updated) == (0, 4)
    assert count(empty_db, Grid) == 4


def test_malformed_json_is_refused(empty_db: Database, write_file: WriteFile) -> None:
    error = refused(empty_db, write_file("bad.geojson", '{"type": "FeatureCollection", "features": ['))
    assert "not valid GeoJSON" in str(error)


def test_something_else_than_a_feature_collection_is_refused(empty_db: Database, write_file: WriteFile) -> None:
    error = refused(empty_db, write_file("bad.geojson", json.dumps(square(113.5, 34.8))))
    assert "FeatureCollection" in str(error)


def test_a_self_intersecting_polygon_names_the_feature(empty_db: Database, write_file: WriteFile) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[113.60, 34.80], [113.61, 34.81], [113.61, 34.80], [113.60, 34.81], [113.60, 34.80]]],
    }
    error = refused(empty_db, write_file("bad.geojson", city(feature("B", 1, None, bowtie, name="蝴蝶网格"))))
    assert "feature #4 (code B, name 蝴蝶网格)" in str(error)
    assert "invalid" in str(error) and "Self-intersection" in str(error)


def test_points_lines_and_swapped_coordinates_are_refused(empty_db: Database, write_file: WriteFile) -> None:
    point = {"type": "Point", "coordinates": [113.6, 34.8]}
    swapped = square(34.80, 113.60)
    error = refused(
        empty_db, write_file("bad.geojson", city(feature("P", 1, None, point), feature("S", 1, None, swapped)))
    )
    text = str(error)
    assert "code P" in text and "Polygon or MultiPolygon, not Point" in text
    assert "code S" in text and "swapped" in text


def test_missing_properties_and_a_bad_level_are_each_reported(empty_db: Database, write_file: WriteFile) -> None:
    nameless = {"type": "Feature", "properties": {"code": "X", "level": 4}, "geometry": square(113.7, 34.8)}
    error = refused(empty_db, write_file("bad.geojson", city(nameless)))
    assert len(error.problems) == 2
    assert "property 'name' is missing" in str(error)
    assert "'level' must be 1, 2 or 3, not 4" in str(error)


def test_overlapping_siblings_are_refused(empty_db: Database, write_file: WriteFile) -> None:
    # A-1-3 sits half over A-1-2, inside the parent.
    overlapping = feature("A-1-3", 3, "A-1", square(113.515, 34.80, 0.005))
    error = refused(empty_db, write_file("bad.geojson", city(overlapping)))
    assert "code A-1-3" in str(error) and "overlaps grid" in str(error) and "A-1-2" in str(error)


def test_a_sliver_of_overlap_within_the_tolerance_is_accepted(empty_db: Database, write_file: WriteFile) -> None:
    # Digitised boundaries never agree to the last decimal: 0.5 % of shared area is tolerated.
    sliver = {
        "type": "Polygon",
        "coordinates": [
            [[113.51, 34.80], [113.52, 34.80], [113.52, 34.82], [113.50995, 34.82], [113.50995, 34.80], [113.51, 34.80]]
        ],
    }
    text = collection(
        feature("A", 1, None, square(113.50, 34.80, 0.02)),
        feature("A-1", 2, "A", square(113.50, 34.80, 0.02)),
        feature(
            "A-1-1",
            3,
            "A-1",
            {
                "type": "Polygon",
                "coordinates": [[[113.50, 34.80], [113.51, 34.80], [113.51, 34.82], [113.50, 34.82], [113.50, 34.80]]],
            },
        ),
        feature("A-1-2", 3, "A-1", sliver),
    )
    import_grids(empty_db, write_file("ok.geojson", text))
    assert count(empty_db, Grid) == 4


def test_a_grid_outside_its_parent_is_refused(empty_db: Database, write_file: WriteFile) -> None:
    error = refused(empty_db, write_file("bad.geojson", city(feature("A-1-9", 3, "A-1", square(113.53, 34.80)))))
    assert "code A-1-9" in str(error) and "outside its parent A-1" in str(error)


def test_an_orphan_is_refused(empty_db: Database, write_file: WriteFile) -> None:
    error = refused(empty_db, write_file("bad.geojson", city(feature("Z-1", 2, "Z", square(113.6, 34.8)))))
    assert "orphan: parent Z" in str(error)


def test_levels_must_step_down_by_one(empty_db: Database, write_file: WriteFile) -> None:
    error = refused(empty_db, write_file("bad.geojson", city(feature("A-x", 3, "A", square(113.505, 34.805, 0.001)))))
    assert "level 3 under parent A of level 1" in str(error)


def test_duplicate_codes_are_refused(empty_db: Database, write_file: WriteFile) -> None:
    error = refused(empty_db, write_file("bad.geojson", city(feature("A", 1, None, square(113.7, 34.8)))))
    assert "code A is also used by feature 0" in str(error)


def test_children_may_hang_under_a_parent_imported_before(empty_db: Database, write_file: WriteFile) -> None:
    parents = collection(
        feature("A", 1, None, square(113.50, 34.80, 0.02)), feature("A-1", 2, "A", square(113.50, 34.80, 0.02))
    )
    import_grids(empty_db, write_file("parents.geojson", parents))
    import_grids(
        empty_db, write_file("children.geojson", collection(feature("A-1-1", 3, "A-1", square(113.50, 34.80))))
    )
    # …and a later file that overlaps a stored sibling is refused.
    error = refused(
        empty_db, write_file("more.geojson", collection(feature("A-1-2", 3, "A-1", square(113.505, 34.805))))
    )
    assert "overlaps grid A-1-1" in str(error)


def test_one_bad_feature_among_good_ones_writes_nothing(empty_db: Database, write_file: WriteFile) -> None:
    refused(empty_db, write_file("bad.geojson", city(feature("Z-1", 2, "Z", square(113.6, 34.8)))))
    assert count(empty_db, Grid) == 0


def test_a_file_over_the_size_limit_is_refused_before_reading(empty_db: Database, write_file: WriteFile) -> None:
    path = write_file("big.geojson", city())
    with pytest.raises(ImportFailed) as info:
        import_grids(empty_db, path, max_bytes=100)
    assert "over the 0.0 MB limit" in str(info.value) or "limit" in str(info.value)
    assert count(empty_db, Grid) == 0


def test_errors_read_in_chinese_too(empty_db: Database, write_file: WriteFile) -> None:
    error = refused(
        empty_db, write_file("bad.geojson", city(feature("Z-1", 2, "Z", square(113.6, 34.8), name="孤儿网格")))
    )
    assert "第 4 个要素（编码 Z-1，名称 孤儿网格）" in error.text("zh-CN")
    assert "孤立网格" in error.text("zh-CN")

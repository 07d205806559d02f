"""Point-in-polygon lookup and the grid hierarchy, over the demo city."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlmodel import select

from gridline.demo.synthetic import as_grid_rows, synthetic_grids
from gridline.importers.geojson import import_grids
from gridline.kernel.services import Parts
from gridline.routing.directory import Directory
from gridline.routing.grids import GridIndex
from gridline.storage.db import Database
from gridline.storage.models import Address
from tests.directory.conftest import WriteFile


def test_every_demo_compound_lies_in_its_own_grid(demo_db: Database) -> None:
    directory = Directory(demo_db)
    with demo_db.session() as session:
        addresses = session.exec(select(Address)).all()
    assert addresses
    for address in addresses:
        assert address.lon is not None and address.lat is not None
        assert directory.locate(address.lon, address.lat) == address.grid_code, address.address


def test_points_outside_every_grid_have_no_grid(demo_db: Database) -> None:
    directory = Directory(demo_db)
    assert directory.locate(116.40, 39.90) is None  # Beijing
    assert directory.locate(113.45, 34.80) is None  # west of 西四环, outside the demo city


def test_a_point_on_a_shared_boundary_always_goes_to_the_same_grid() -> None:
    index = GridIndex.from_grids(as_grid_rows(synthetic_grids(4)))
    # B000000 and B000001 share the edge x = 113.302.
    assert index.locate(113.302, 34.501) == "B000000"


def test_hierarchy_questions_are_answered_from_memory(demo_db: Database) -> None:
    index = Directory(demo_db).grid_index()
    assert [g.code for g in index.ancestors("GX01-02-1")] == ["GX01-02", "GX01"]
    assert [g.code for g in index.children("GX01-02")] == ["GX01-02-1", "GX01-02-2"]
    assert index.subtree_codes("GX02") == {
        "GX02", "GX02-01", "GX02-01-1", "GX02-01-2", "GX02-02", "GX02-02-1", "GX02-02-2",
        "GX02-03", "GX02-03-1", "GX02-03-2",
    }  # fmt: skip
    assert index.subtree_codes("GX01-01-1") == {"GX01-01-1"}
    assert index.subtree_codes("NOPE") == set()
    assert index.ancestors("NOPE") == []
    assert len(index.base_codes) == 14


def test_lookup_over_a_large_synthetic_city_finds_each_cell() -> None:
    grids = synthetic_grids(2500)
    index = GridIndex.from_grids(as_grid_rows(grids))
    for grid in grids[-2500::97]:
        point = grid.geometry.representative_point()
        assert index.locate(point.x, point.y) == grid.code


def test_directory_is_kept_on_the_services_and_rebuilt_after_an_import(
    demo_db: Database, write_file: WriteFile
) -> None:
    services: Any = SimpleNamespace(db=demo_db, parts=Parts())
    directory = Directory.for_services(services)
    assert Directory.for_services(services) is directory
    assert directory.locate(113.70, 34.70) is None
    square = [[113.70, 34.69], [113.71, 34.69], [113.71, 34.71], [113.70, 34.71], [113.70, 34.69]]
    geojson = (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"code": "NEW", "name": "新区", "level": 1, "parent": null}, '
        f'"geometry": {{"type": "Polygon", "coordinates": [{square}]}}}}]}}'
    )
    import_grids(demo_db, write_file("new.geojson", geojson))
    assert directory.locate(113.705, 34.70) == "NEW"  # the import invalidated the cached index


def test_the_index_outlives_a_rolled_back_session(demo_db: Database) -> None:
    """A unit of work that fails after building the index rolls back; the cached index still answers."""
    from gridline.storage import directory as store

    with demo_db.session() as session:
        index = GridIndex.from_grids(store.all_grids(session))
        session.rollback()  # expires every row the session loaded
    base = index.base_codes[0]
    assert [g.level for g in index.ancestors(base)] == [2, 1], "its parents, nearest first"

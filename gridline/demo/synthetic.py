"""A synthetic city of any size, for scale tests and benchmarks.

``n`` base grids are square cells laid out row by row; every 3×3 block of cells forms a level-2 grid
and every 4×4 block of level-2 grids a level-1 grid (parents are the union of their children, so
nesting and tiling are exact). Each base grid gets two compounds, a leader and a member, and a rota
covering the whole week; each level-2/level-1 grid a contact.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry

from gridline.i18n import Language
from gridline.routing.grids import geometry_json
from gridline.storage.models import Grid

ORIGIN = (113.30, 34.50)  # south-west corner, west of Zhengzhou
CELL_DEGREES = 0.002  # about 180 m × 220 m
BLOCK = 3  # base cells per level-2 side
SUPER = 4  # level-2 grids per level-1 side


@dataclass(frozen=True)
class SyntheticGrid:
    code: str
    name: str
    level: int
    parent: str | None
    geometry: BaseGeometry


def synthetic_grids(n: int, *, cell: float = CELL_DEGREES, origin: tuple[float, float] = ORIGIN) -> list[SyntheticGrid]:
    """Level-1, level-2 and ``n`` base grids (in that order)."""
    if n < 1:
        raise ValueError("a city needs at least one base grid")
    cols = math.ceil(math.sqrt(n))
    base: list[SyntheticGrid] = []
    members: dict[tuple[int, int], list[SyntheticGrid]] = defaultdict(list)
    for i in range(n):
        row, col = divmod(i, cols)
        x0, y0 = round(origin[0] + col * cell, 6), round(origin[1] + row * cell, 6)
        geom = box(x0, y0, round(x0 + cell, 6), round(y0 + cell, 6))
        block = (row // BLOCK, col // BLOCK)
        parent = f"M{block[0]:03d}{block[1]:03d}"
        grid = SyntheticGrid(f"B{i:06d}", f"合成第{i + 1}网格", 3, parent, geom)
        base.append(grid)
        members[block].append(grid)
    level2: list[SyntheticGrid] = []
    supers: dict[tuple[int, int], list[SyntheticGrid]] = defaultdict(list)
    for (brow, bcol), cells in sorted(members.items()):
        top = (brow // SUPER, bcol // SUPER)
        geom = shapely.union_all([c.geometry for c in cells]).normalize()
        grid = SyntheticGrid(cells[0].parent or "", f"合成二级网格{brow}-{bcol}", 2, f"T{top[0]:02d}{top[1]:02d}", geom)
        level2.append(grid)
        supers[top].append(grid)
    level1 = [
        SyntheticGrid(f"T{r:02d}{c:02d}", f"合成一级网格{r}-{c}", 1, None, shapely.union_all([g.geometry for g in gs]))
        for (r, c), gs in sorted(supers.items())
    ]
    return level1 + level2 + base


def as_grid_rows(grids: list[SyntheticGrid]) -> list[Grid]:
    """Unsaved Grid rows (for an in-memory GridIndex, e.g. in the benchmark)."""
    return [
        Grid(code=g.code, name=g.name, level=g.level, parent_code=g.parent, geometry=geometry_json(g.geometry))
        for g in grids
    ]


def _phone(i: int) -> str:
    return f"+86170{20_000_000 + i:08d}"


def write_city(n: int, out: Path) -> dict[str, Path]:
    """Write grids.geojson, addresses.csv, staff.csv and rota.csv for a city of ``n`` base grids."""
    out.mkdir(parents=True, exist_ok=True)
    grids = synthetic_grids(n)
    files = {name: out / name for name in ("grids.geojson", "addresses.csv", "staff.csv", "rota.csv")}
    features = [
        {
            "type": "Feature",
            "properties": {"code": g.code, "name": g.name, "level": g.level, "parent": g.parent},
            "geometry": mapping(g.geometry),
        }
        for g in grids
    ]
    collection = {"type": "FeatureCollection", "features": features}
    files["grids.geojson"].write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    base = [g for g in grids if g.level == 3]
    _write(files["addresses.csv"], ["address", "aliases", "grid_code", "lat", "lon", "compound"], _addresses(base))
    header = ["code", "name", "role", "grid_code", "department", "categories", "phone", "lang", "channels"]
    _write(files["staff.csv"], header, _staff(grids))
    _write(files["rota.csv"], ["grid_code", "staff_code", "role", "weekday", "start", "end"], _rota(base))
    return files


def _write(path: Path, header: list[str], rows: Iterator[list[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _addresses(base: list[SyntheticGrid]) -> Iterator[list[object]]:
    for i, grid in enumerate(base):
        point = grid.geometry.centroid
        for k in (1, 2):
            number = i * 2 + k
            yield [f"郑州市合成区纬{i // 50}路{number}号院", f"合成{number}小区", grid.code,
                   round(point.y, 6), round(point.x + (k - 1.5) * 0.0005, 6), f"合成{number}小区"]  # fmt: skip


def _staff(grids: list[SyntheticGrid]) -> Iterator[list[object]]:
    serial = 0
    for grid in grids:
        roles = {3: ("leader", "member"), 2: ("level2_contact",), 1: ("level1_contact",)}[grid.level]
        for role in roles:
            serial += 1
            channels = "web|sms" if serial % 2 else f"telegram:{900_000_000 + serial}|sms|voice"
            yield [f"{role[:3].upper()}-{grid.code}", f"合成人员{serial}", role, grid.code, "", "",
                   _phone(serial), Language.ZH_CN, channels]  # fmt: skip
    yield ["SUP-SYN", "合成督导员", "supervisor", "", "", "", _phone(serial + 1), Language.ZH_CN, "web"]


def _rota(base: list[SyntheticGrid]) -> Iterator[list[object]]:
    for grid in base:
        leader, member = f"LEA-{grid.code}", f"MEM-{grid.code}"
        yield [grid.code, leader, "primary", "Mon-Fri", "08:00", "20:00"]
        yield [grid.code, member, "primary", "Sat-Sun", "08:00", "20:00"]
        yield [grid.code, member, "primary", "daily", "20:00", "08:00"]
        yield [grid.code, member, "backup", "Mon-Fri", "08:00", "20:00"]
        yield [grid.code, leader, "backup", "Sat-Sun", "08:00", "20:00"]
        yield [grid.code, leader, "backup", "daily", "20:00", "08:00"]

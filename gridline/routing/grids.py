"""Grids (一级/二级/三级网格): geometry helpers and the point-in-polygon index.

Every point of the territory belongs to exactly one base grid. :class:`GridIndex` finds it through
shapely's STRtree over the base grids' polygons, and answers hierarchy questions (parent chain,
children, subtree) from memory, so a lookup never touches the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

from gridline.storage.models import Grid

BASE_LEVEL = 3


def parse_geometry(geometry: str | dict[str, Any]) -> BaseGeometry:
    """A shapely geometry from GeoJSON (text or parsed)."""
    data = json.loads(geometry) if isinstance(geometry, str) else geometry
    return shape(data)


def is_area(geom: BaseGeometry) -> bool:
    return isinstance(geom, Polygon | MultiPolygon)


def geometry_json(geom: BaseGeometry) -> str:
    """GeoJSON text for a geometry, as stored in ``Grid.geometry``."""
    return json.dumps(shapely.geometry.mapping(geom), separators=(",", ":"))


class GridIndex:
    """Point lookup and hierarchy over a set of grids.

    Base grids are the leaves of the hierarchy (normally level 3). A point on a boundary shared by two
    base grids goes to the one with the smaller code, so the answer is always the same.
    """

    def __init__(self, grids: Sequence[Grid]) -> None:
        self._grids: dict[str, Grid] = {g.code: g for g in grids}
        self._children: dict[str, list[str]] = {}
        for grid in grids:
            if grid.parent_code:
                self._children.setdefault(grid.parent_code, []).append(grid.code)
        for codes in self._children.values():
            codes.sort()
        self._base_codes: list[str] = sorted(code for code in self._grids if code not in self._children)
        polygons = [parse_geometry(self._grids[code].geometry) for code in self._base_codes]
        shapely.prepare(polygons)
        self._polygons = polygons
        self._tree = shapely.STRtree(polygons)

    @classmethod
    def from_grids(cls, grids: Iterable[Grid]) -> GridIndex:
        """Build the index from copies of ``grids``.

        The index outlives the session the rows came from; a row that session rolled back would be
        expired, and the next read of a detached expired row raises (``DetachedInstanceError``: after
        a lost database connection every escalation step failed on the cached index). Copies are
        plain values, whatever happens to the session afterwards.
        """
        return cls([Grid(**{name: getattr(g, name) for name in Grid.model_fields}) for g in grids])

    def __len__(self) -> int:
        return len(self._grids)

    def __contains__(self, code: object) -> bool:
        return code in self._grids

    def get(self, code: str) -> Grid | None:
        return self._grids.get(code)

    @property
    def base_codes(self) -> list[str]:
        return list(self._base_codes)

    def locate(self, lon: float, lat: float) -> str | None:
        """The code of the base grid containing the point, or None outside every grid."""
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return self._base_codes[int(min(hits))]

    def ancestors(self, code: str) -> list[Grid]:
        """The parent chain of ``code``, nearest first (the grid itself is not included)."""
        chain: list[Grid] = []
        seen = {code}
        grid = self._grids.get(code)
        while grid is not None and grid.parent_code and grid.parent_code not in seen:
            seen.add(grid.parent_code)
            grid = self._grids.get(grid.parent_code)
            if grid is not None:
                chain.append(grid)
        return chain

    def chain(self, code: str) -> list[Grid]:
        """The grid itself followed by its ancestors (base grid → level 1)."""
        grid = self._grids.get(code)
        return ([grid] if grid is not None else []) + self.ancestors(code)

    def children(self, code: str) -> list[Grid]:
        """Direct children of ``code``, by code."""
        return [self._grids[c] for c in self._children.get(code, [])]

    def subtree_codes(self, code: str) -> set[str]:
        """``code`` and every grid below it (a supervisor's scope). Empty for an unknown code."""
        if code not in self._grids:
            return set()
        out: set[str] = set()
        stack = [code]
        while stack:
            current = stack.pop()
            if current in out:
                continue
            out.add(current)
            stack.extend(self._children.get(current, []))
        return out

    def roots(self) -> list[Grid]:
        return sorted(
            (g for g in self._grids.values() if not g.parent_code or g.parent_code not in self._grids),
            key=lambda g: g.code,
        )

    def all(self) -> list[Grid]:
        return sorted(self._grids.values(), key=lambda g: (g.level, g.code))

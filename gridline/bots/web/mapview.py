"""A map of the grids as plain SVG: GeoJSON polygons projected to SVG path data.

An equirectangular projection scaled by cos(latitude) is faithful enough at a district's scale
(a few kilometres) and trivially invertible, so the browser turns a click back into (lat, lon)
with the same three numbers the server used.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from gridline.storage import directory
from gridline.storage.models import Grid

WIDTH = 1000.0
MARGIN = 12.0


@dataclass(frozen=True)
class Projection:
    """x = (lon - lon0) · kx · scale + margin;  y = (lat_top - lat) · scale + margin."""

    lon0: float
    lat_top: float
    kx: float
    scale: float

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.lon0) * self.kx * self.scale + MARGIN, (self.lat_top - lat) * self.scale + MARGIN)

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        return (self.lon0 + (x - MARGIN) / (self.kx * self.scale), self.lat_top - (y - MARGIN) / self.scale)


def _rings(geometry: dict[str, Any]) -> list[Sequence[Sequence[float]]]:
    if geometry.get("type") == "Polygon":
        return list(geometry["coordinates"])
    if geometry.get("type") == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def _bounds(rings: Iterable[Sequence[Sequence[float]]]) -> tuple[float, float, float, float]:
    lons = [p[0] for ring in rings for p in ring]
    lats = [p[1] for ring in rings for p in ring]
    return min(lons), min(lats), max(lons), max(lats)


def _path(rings: list[Sequence[Sequence[float]]], projection: Projection) -> str:
    parts = []
    for ring in rings:
        points = [projection.xy(p[0], p[1]) for p in ring]
        parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
    return "".join(parts)


def grid_map(session: Session) -> dict[str, Any]:
    """Every grid's outline as SVG path data, base grids last (drawn on top, clickable)."""
    grids = directory.grids_by_level(session)
    shapes = [(g, _rings(json.loads(g.geometry))) for g in grids]
    all_rings = [ring for _, rings in shapes for ring in rings]
    if not all_rings:
        return {"width": WIDTH, "height": WIDTH / 2, "projection": None, "grids": []}
    min_lon, min_lat, max_lon, max_lat = _bounds(all_rings)
    kx = math.cos(math.radians((min_lat + max_lat) / 2))
    scale = (WIDTH - 2 * MARGIN) / max((max_lon - min_lon) * kx, 1e-9)
    projection = Projection(lon0=min_lon, lat_top=max_lat, kx=kx, scale=scale)
    height = (max_lat - min_lat) * scale + 2 * MARGIN
    out = []
    for grid, rings in shapes:
        if not rings:
            continue
        label_x, label_y = projection.xy(*_label_point(grid, rings))
        out.append({"code": grid.code, "name": grid.name, "level": grid.level, "parent": grid.parent_code,
                    "path": _path(rings, projection), "label": [round(label_x, 1), round(label_y, 1)]})
    return {
        "width": WIDTH, "height": round(height, 1),
        "projection": {"lon0": projection.lon0, "lat_top": projection.lat_top, "kx": projection.kx,
                       "scale": projection.scale, "margin": MARGIN},
        "grids": out,
    }


def _label_point(grid: Grid, rings: list[Sequence[Sequence[float]]]) -> tuple[float, float]:
    if grid.centroid_lon is not None and grid.centroid_lat is not None:
        return grid.centroid_lon, grid.centroid_lat
    min_lon, min_lat, max_lon, max_lat = _bounds(rings[:1])
    return (min_lon + max_lon) / 2, (min_lat + max_lat) / 2

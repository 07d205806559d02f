"""Importing grids from a GeoJSON FeatureCollection (``properties: code, name, level, parent``).

Validation, before anything is written: valid Polygon/MultiPolygon geometry in lon/lat, unique codes,
a parent for every level-2/3 grid (in the file or already in the database) one level up, every child
inside its parent, and siblings not overlapping — each within a tolerance, as digitised boundaries
never agree to the last decimal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from gridline.importers import DEFAULT_MAX_BYTES, ImportFailed, ImportProblem, ImportSummary, Source, read_source
from gridline.routing.directory import invalidate_directories
from gridline.routing.grids import geometry_json, is_area, parse_geometry
from gridline.storage import directory
from gridline.storage.db import Database
from gridline.storage.models import Grid

# A child may stick out of its parent by this share of its own area.
OUTSIDE_PARENT_TOLERANCE = 0.01
# Two siblings may share this share of the smaller one's area.
SIBLING_OVERLAP_TOLERANCE = 0.01


@dataclass
class GridFeature:
    index: int
    code: str
    name: str
    level: int
    parent: str | None
    geometry: BaseGeometry

    def problem(self, key: str, /, **params: Any) -> ImportProblem:
        return feature_problem(self.index, self.code, self.name, key, **params)


def feature_problem(index: int, code: str, name: str, key: str, /, **params: Any) -> ImportProblem:
    where = {"index": index, "code": code or "?", "name": name or "?"}
    return ImportProblem("directory.where.feature", where, key, params)


def parse_features(data: bytes, label: str) -> list[GridFeature]:
    """Features of the collection; raises for anything that is not a readable grid feature."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFailed(label, [ImportProblem.in_file(label, "directory.grid.not_json", error=str(exc))]) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ImportFailed(label, [ImportProblem.in_file(label, "directory.grid.not_collection")])
    problems: list[ImportProblem] = []
    features: list[GridFeature] = []
    for index, raw in enumerate(doc["features"]):
        feature = _parse_feature(index, raw, problems)
        if feature is not None:
            features.append(feature)
    if problems:
        raise ImportFailed(label, problems)
    return features


def _parse_feature(index: int, raw: Any, problems: list[ImportProblem]) -> GridFeature | None:
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        problems.append(feature_problem(index, "", "", "directory.grid.not_feature"))
        return None
    props = raw.get("properties") or {}
    code = str(props.get("code") or "").strip()
    name = str(props.get("name") or "").strip()
    bad = len(problems)

    def problem(key: str, **params: Any) -> None:
        problems.append(feature_problem(index, code, name, key, **params))

    if not code:
        problem("directory.grid.missing_property", property="code")
    if not name:
        problem("directory.grid.missing_property", property="name")
    level = props.get("level")
    if isinstance(level, str) and level.strip().isdigit():
        level = int(level)
    if not isinstance(level, int) or level not in (1, 2, 3):
        problem("directory.grid.bad_level", level=repr(level))
    parent = str(props.get("parent") or "").strip() or None
    geometry: BaseGeometry | None = None
    try:
        geometry = parse_geometry(raw.get("geometry") or {})
    except Exception as exc:  # shapely raises several kinds for broken coordinates
        problem("directory.grid.unreadable_geometry", error=str(exc))
    if geometry is not None:
        for key, params in _geometry_problems(geometry):
            problem(key, **params)
    if len(problems) > bad or geometry is None or not isinstance(level, int):
        return None
    return GridFeature(index, code, name, level, parent, geometry)


def _geometry_problems(geom: BaseGeometry) -> list[tuple[str, dict[str, Any]]]:
    if not is_area(geom):
        return [("directory.grid.not_area", {"kind": geom.geom_type})]
    if geom.is_empty:
        return [("directory.grid.empty_geometry", {})]
    if not geom.is_valid:
        return [("directory.grid.invalid_geometry", {"reason": shapely.is_valid_reason(geom)})]
    if geom.area <= 0:
        return [("directory.grid.empty_geometry", {})]
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return [("directory.grid.not_lonlat", {})]
    return []


def validate_hierarchy(
    features: list[GridFeature],
    existing: Iterable[Grid],
    *,
    outside_tolerance: float = OUTSIDE_PARENT_TOLERANCE,
    overlap_tolerance: float = SIBLING_OVERLAP_TOLERANCE,
) -> list[ImportProblem]:
    """Problems of the file's grids together with the grids already stored (file wins on a code)."""
    problems: list[ImportProblem] = []
    seen: dict[str, GridFeature] = {}
    for feature in features:
        if feature.code in seen:
            first = seen[feature.code]
            problems.append(feature.problem("directory.grid.duplicate_code", code=feature.code, first=first.index))
        else:
            seen[feature.code] = feature
    stored = {g.code: (g.level, g.parent_code, parse_geometry(g.geometry)) for g in existing if g.code not in seen}
    levels = {code: f.level for code, f in seen.items()} | {code: s[0] for code, s in stored.items()}
    shapes = {code: f.geometry for code, f in seen.items()} | {code: s[2] for code, s in stored.items()}
    for feature in seen.values():
        if feature.level == 1:
            if feature.parent:
                problems.append(feature.problem("directory.grid.level1_parent", parent=feature.parent))
            continue
        if not feature.parent:
            problems.append(feature.problem("directory.grid.needs_parent", level=feature.level))
            continue
        if feature.parent not in levels:
            problems.append(feature.problem("directory.grid.orphan", parent=feature.parent))
            continue
        if levels[feature.parent] != feature.level - 1:
            problems.append(
                feature.problem("directory.grid.level_mismatch", level=feature.level, parent=feature.parent,
                                parent_level=levels[feature.parent])
            )  # fmt: skip
        outside = feature.geometry.difference(shapes[feature.parent]).area / feature.geometry.area
        if outside > outside_tolerance:
            share = f"{outside:.1%}"
            problems.append(feature.problem("directory.grid.outside_parent", share=share, parent=feature.parent))
    problems.extend(_sibling_overlaps(seen, stored, overlap_tolerance))
    return problems


def _sibling_overlaps(
    seen: dict[str, GridFeature],
    stored: dict[str, tuple[int, str | None, BaseGeometry]],
    tolerance: float,
) -> list[ImportProblem]:
    groups: dict[str | None, list[str]] = {}
    for code, feature in seen.items():
        groups.setdefault(feature.parent if feature.level > 1 else None, []).append(code)
    for code, (level, parent, _) in stored.items():
        groups.setdefault(parent if level > 1 else None, []).append(code)
    shapes = {code: f.geometry for code, f in seen.items()} | {code: s[2] for code, s in stored.items()}
    problems: list[ImportProblem] = []
    for codes in groups.values():
        if len(codes) < 2:
            continue
        geoms = [shapes[c] for c in codes]
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if i >= j:
                continue
            a, b = codes[i], codes[j]
            if a not in seen and b not in seen:
                continue  # both already stored: not this file's problem
            shared = geoms[i].intersection(geoms[j]).area / min(geoms[i].area, geoms[j].area)
            if shared > tolerance:
                # Blame the later feature of the file (the earlier one was there first).
                if a in seen and b in seen:
                    mine, other = (a, b) if seen[a].index > seen[b].index else (b, a)
                else:
                    mine, other = (a, b) if a in seen else (b, a)
                label = f"#{seen[other].index} {other} {seen[other].name}" if other in seen else other
                problems.append(seen[mine].problem("directory.grid.overlaps", other=label, share=f"{shared:.1%}"))
    return problems


def import_grids(
    db: Database,
    source: Source,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    name: str | None = None,
    outside_tolerance: float = OUTSIDE_PARENT_TOLERANCE,
    overlap_tolerance: float = SIBLING_OVERLAP_TOLERANCE,
) -> ImportSummary:
    """Validate then write (insert or update by code) every grid of a FeatureCollection."""
    data, label = read_source(source, max_bytes=max_bytes, name=name)
    features = parse_features(data, label)
    if not features:
        raise ImportFailed(label, [ImportProblem.in_file(label, "directory.grid.no_features")])
    with db.session() as session:
        existing = directory.all_grids(session)
        problems = validate_hierarchy(
            features, existing, outside_tolerance=outside_tolerance, overlap_tolerance=overlap_tolerance
        )
        if problems:
            raise ImportFailed(label, problems)
        summary = ImportSummary("grids", label)
        by_code = {g.code: g for g in existing}
        for feature in features:
            centroid = feature.geometry.representative_point()
            row = by_code.get(feature.code)
            if row is None:
                row = Grid(code=feature.code, name=feature.name, level=feature.level, geometry="")
                summary.created += 1
            else:
                summary.updated += 1
            row.name, row.level, row.parent_code = feature.name, feature.level, feature.parent
            row.geometry = geometry_json(feature.geometry)
            row.centroid_lon, row.centroid_lat = round(centroid.x, 6), round(centroid.y, 6)
            session.add(row)
    invalidate_directories(db)
    return summary

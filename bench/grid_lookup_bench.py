"""Grid lookup rate: shapely STRtree (GridIndex.locate) against brute-force scans of the same polygons.

Both baselines run in the same process, on the same generated city and the same random points:
- ``brute_force_loop``: test every base polygon in turn (prepared geometries, Python loop) — what a
  lookup costs without a spatial index;
- ``brute_force_vectorised``: one vectorised ``shapely.contains_xy`` call over every polygon per point —
  the best a scan can do.
Every answer of the index is checked against the scan for the points both looked up.

    .venv/bin/python bench/grid_lookup_bench.py [--grids 20000] [--points 20000] [--scan-points 200]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Point

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gridline.demo.synthetic import as_grid_rows, synthetic_grids
from gridline.routing.grids import GridIndex, parse_geometry


def run(n_grids: int, n_points: int, n_scan: int, seed: int) -> dict[str, object]:
    """Measure and return the figures as a JSON-ready dict."""
    started = time.perf_counter()
    grids = synthetic_grids(n_grids)
    rows = as_grid_rows(grids)
    generated_s = time.perf_counter() - started

    started = time.perf_counter()
    index = GridIndex.from_grids(rows)
    build_s = time.perf_counter() - started

    base = [r for r in rows if r.level == 3]
    codes = [r.code for r in base]
    polygons = [parse_geometry(r.geometry) for r in base]
    shapely.prepare(polygons)
    poly_array = np.array(polygons, dtype=object)
    minx, miny, maxx, maxy = shapely.total_bounds(poly_array)
    rng = random.Random(seed)
    # A few points fall outside the city (the square layout leaves the last row part-empty, and a margin).
    points = [
        (rng.uniform(minx - 0.001, maxx + 0.001), rng.uniform(miny - 0.001, maxy + 0.001)) for _ in range(n_points)
    ]

    started = time.perf_counter()
    tree_answers = [index.locate(x, y) for x, y in points]
    tree_s = time.perf_counter() - started

    scan_points = points[:n_scan]

    def scan_loop(x: float, y: float) -> str | None:
        point = Point(x, y)
        for code, polygon in zip(codes, polygons, strict=True):
            if polygon.intersects(point):  # same rule as the index: boundary points belong
                return code
        return None

    started = time.perf_counter()
    loop_answers = [scan_loop(x, y) for x, y in scan_points]
    loop_s = time.perf_counter() - started

    started = time.perf_counter()
    vector_answers: list[str | None] = []
    for x, y in scan_points:
        hits = np.flatnonzero(shapely.intersects_xy(poly_array, x, y))
        vector_answers.append(codes[int(hits[0])] if len(hits) else None)
    vector_s = time.perf_counter() - started

    mismatches = sum(
        1 for a, b, c in zip(tree_answers[:n_scan], loop_answers, vector_answers, strict=True) if not a == b == c
    )
    tree_rate = n_points / tree_s
    loop_rate = len(scan_points) / loop_s
    vector_rate = len(scan_points) / vector_s
    return {
        "benchmark": "grid_lookup",
        "base_grids": len(base),
        "all_grids": len(rows),
        "points": n_points,
        "points_outside": sum(1 for a in tree_answers if a is None),
        "scan_points": len(scan_points),
        "generate_seconds": round(generated_s, 3),
        "index_build_seconds": round(build_s, 3),
        "strtree_lookups_per_second": round(tree_rate, 1),
        "strtree_microseconds_per_lookup": round(1e6 / tree_rate, 2),
        "brute_force_loop_lookups_per_second": round(loop_rate, 2),
        "brute_force_vectorised_lookups_per_second": round(vector_rate, 2),
        "speedup_vs_loop": round(tree_rate / loop_rate, 1),
        "speedup_vs_vectorised": round(tree_rate / vector_rate, 1),
        "answers_checked": len(scan_points),
        "mismatches": mismatches,
        "python": platform.python_version(),
        "shapely": shapely.__version__,
        "machine": platform.machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grids", type=int, default=20_000, help="base grids in the generated city")
    parser.add_argument("--points", type=int, default=20_000, help="lookups through the STRtree index")
    parser.add_argument("--scan-points", type=int, default=200, help="lookups through each brute-force scan")
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    result = run(args.grids, args.points, min(args.scan_points, args.points), args.seed)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

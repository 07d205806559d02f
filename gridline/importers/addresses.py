"""Importing the address directory (CSV: address, aliases, grid_code, lat, lon, compound)."""

from __future__ import annotations

from gridline.importers import DEFAULT_MAX_BYTES, ImportFailed, ImportProblem, ImportSummary, Source
from gridline.importers.csvfile import read_csv
from gridline.routing.addresses import normalize_address, split_aliases
from gridline.routing.directory import invalidate_directories
from gridline.routing.grids import GridIndex
from gridline.storage import directory
from gridline.storage.bulk import insert_rows
from gridline.storage.db import Database
from gridline.storage.models import Address

COLUMNS = ("address", "grid_code")
OPTIONAL = ("aliases", "lat", "lon", "compound")


def import_addresses(
    db: Database, source: Source, *, max_bytes: int = DEFAULT_MAX_BYTES, name: str | None = None
) -> ImportSummary:
    """Insert or update (by address text) every row; grid codes must exist, and a given point must
    lie in (or within ~100 m of) the named grid."""
    table = read_csv(source, required=COLUMNS, optional=OPTIONAL, max_bytes=max_bytes, name=name)
    problems: list[ImportProblem] = []
    with db.session() as session:
        index = GridIndex.from_grids(directory.all_grids(session))
        parsed: dict[str, tuple[dict[str, object], int]] = {}
        for row in table.rows:
            address = row.get("address")
            grid_code = row.get("grid_code")
            if not address:
                problems.append(row.problem("directory.address.empty"))
                continue
            if grid_code not in index:
                problems.append(row.problem("directory.address.unknown_grid", grid_code=grid_code, address=address))
                continue
            lat = lon = None
            if row.get("lat") or row.get("lon"):
                try:
                    lat, lon = float(row.get("lat")), float(row.get("lon"))
                except ValueError:
                    problems.append(row.problem("directory.address.bad_point"))
                    continue
                located = index.locate(lon, lat)
                if located != grid_code and not _near(index, grid_code, lon, lat):
                    problems.append(
                        row.problem("directory.address.point_elsewhere", lat=lat, lon=lon, address=address,
                                    located=located or "-", grid_code=grid_code)
                    )  # fmt: skip
                    continue
            if address in parsed:
                problems.append(row.problem("directory.address.duplicate", address=address, line=parsed[address][1]))
                continue
            aliases = split_aliases(row.get("aliases"))
            values: dict[str, object] = {
                "address": address, "normalized": normalize_address(address), "aliases": aliases,
                "compound": row.get("compound") or (aliases[0] if aliases else None), "grid_code": grid_code,
                "lat": lat, "lon": lon, "extra": {},
            }  # fmt: skip
            parsed[address] = (values, row.line)
        if problems:
            raise ImportFailed(table.name, problems)
        summary = ImportSummary("addresses", table.name, encoding=table.encoding)
        known = directory.address_texts(session)
        fresh = [values for address, (values, _) in parsed.items() if address not in known]
        insert_rows(session, Address, fresh)
        updated = [address for address in parsed if address in known]
        for stored in directory.addresses_named(session, updated):
            for attr, value in parsed[stored.address][0].items():
                if attr != "extra":
                    setattr(stored, attr, value)
            session.add(stored)
        summary.created, summary.updated = len(fresh), len(updated)
    invalidate_directories(db)
    return summary


def _near(index: GridIndex, grid_code: str, lon: float, lat: float, degrees: float = 0.001) -> bool:
    """Points digitised on a boundary road may fall just outside; ~100 m is accepted."""
    from shapely.geometry import Point

    from gridline.routing.grids import parse_geometry

    grid = index.get(grid_code)
    return grid is not None and parse_geometry(grid.geometry).distance(Point(lon, lat)) <= degrees

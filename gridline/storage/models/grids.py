"""Grids (三级网格) and the address directory of the grid archives."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from gridline.storage.types import JSONType


class Grid(SQLModel, table=True):
    __tablename__ = "grids"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=200)
    # level: 1 = 一级网格, 2 = 二级网格, 3 = base grid (三级网格)
    level: int = Field(ge=1, le=3)
    parent_code: str | None = Field(default=None, index=True, max_length=64)
    # GeoJSON geometry (Polygon or MultiPolygon), lon/lat, as text so both databases agree.
    geometry: str = Field(sa_column=Column(Text, nullable=False))
    centroid_lon: float | None = None
    centroid_lat: float | None = None


class Address(SQLModel, table=True):
    __tablename__ = "addresses"

    id: int | None = Field(default=None, primary_key=True)
    # address: canonical form, e.g. 郑州市高新区桐柏路199号院
    address: str = Field(max_length=300)
    normalized: str = Field(index=True, max_length=300)
    aliases: list[str] = Field(default_factory=list, sa_type=JSONType)
    # compound: common name of the 小区/院
    compound: str | None = Field(default=None, max_length=200)
    grid_code: str = Field(index=True, max_length=64)
    lat: float | None = None
    lon: float | None = None
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


class DirectoryVersion(SQLModel, table=True):
    """One token per part of the directory (``grids``: grids and addresses; ``people``: staff,
    their contact methods, the duty rota and its overrides). Database triggers give a part a new
    random token in the same transaction as every write to its tables (``storage.directory_cache``),
    so a process can tell with one read whether what it keeps in memory is still what is committed."""

    __tablename__ = "directory_versions"

    part: str = Field(primary_key=True, max_length=16)
    token: str = Field(max_length=64)

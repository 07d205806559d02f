"""The per-process directory: the grid index and the address matcher, built once from the database.

Lookups happen on every inbound report, so both are kept in memory and rebuilt only after an import
(:meth:`Directory.invalidate`; the importers call :func:`invalidate_directories`, which reaches every
directory of this process).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from gridline.routing.addresses import AddressMatch, AddressMatcher
from gridline.routing.grids import GridIndex
from gridline.storage.db import Database
from gridline.storage.models import Address, Grid, Staff

if TYPE_CHECKING:
    from gridline.core.services import Services

_live: weakref.WeakSet[Directory] = weakref.WeakSet()


class Directory:
    """Cached :class:`GridIndex` and :class:`AddressMatcher` for one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._grids: GridIndex | None = None
        self._addresses: AddressMatcher | None = None
        _live.add(self)

    @classmethod
    def for_services(cls, services: Services) -> Directory:
        """The directory kept in ``services.extras["directory"]`` (created on first use)."""
        directory = services.extras.get("directory")
        if not isinstance(directory, Directory):
            directory = cls(services.db)
            services.extras["directory"] = directory
        return directory

    def grid_index(self) -> GridIndex:
        """The cached grid index (built on first use)."""
        return self.grids

    def address_matcher(self) -> AddressMatcher:
        """The cached address matcher (built on first use)."""
        return self.addresses

    @property
    def grids(self) -> GridIndex:
        index = self._grids
        if index is None:
            with self._lock:
                if self._grids is None:
                    with self.db.session() as session:
                        self._grids = GridIndex.from_grids(session.exec(select(Grid)).all())
                index = self._grids
        return index

    @property
    def addresses(self) -> AddressMatcher:
        matcher = self._addresses
        if matcher is None:
            with self._lock:
                if self._addresses is None:
                    with self.db.session() as session:
                        self._addresses = AddressMatcher(session.exec(select(Address)).all())
                matcher = self._addresses
        return matcher

    def invalidate(self) -> None:
        """Forget the cached index and matcher; the next lookup rebuilds them."""
        with self._lock:
            self._grids = None
            self._addresses = None

    def locate(self, lon: float, lat: float) -> str | None:
        """The base grid code at a point (a resident's shared location)."""
        return self.grids.locate(lon, lat)

    def match_address(self, text: str) -> AddressMatch | None:
        """The directory entry named in ``text`` (an address or a whole report)."""
        return self.addresses.match(text)

    def chain_codes(self, grid_code: str) -> list[str]:
        """``grid_code`` and its ancestors' codes, nearest first."""
        return [g.code for g in self.grids.chain(grid_code)]

    def staff_up_the_chain(self, session: Session, grid_code: str, role: str) -> list[Staff]:
        """Active staff with ``role`` attached to the nearest grid in the chain that has any
        (e.g. the level-2 contact of a base grid's level-2 grid)."""
        for code in self.chain_codes(grid_code):
            staff = session.exec(
                select(Staff)
                .where(Staff.grid_code == code, Staff.role == role, Staff.active == True)  # noqa: E712
                .order_by(Staff.code)
            ).all()
            if staff:
                return list(staff)
        return []

    def department_staff(self, session: Session, category: str, grid_code: str | None) -> list[Staff]:
        """Department staff handling ``category``: those attached to the grid's chain first, then
        district-wide ones (no grid)."""
        rows = session.exec(
            select(Staff)
            .where(Staff.role == "department", Staff.active == True)  # noqa: E712
            .order_by(Staff.code)
        ).all()
        handling = [s for s in rows if category in (s.categories or [])]
        chain = self.chain_codes(grid_code) if grid_code else []
        rank = {code: i for i, code in enumerate(chain)}
        local = sorted((s for s in handling if s.grid_code in rank), key=lambda s: rank[s.grid_code or ""])
        wide = [s for s in handling if not s.grid_code]
        return local + wide


def invalidate_directories(db: Database | None = None) -> None:
    """Invalidate every live directory of this process (of ``db`` only, when given)."""
    for directory in list(_live):
        if db is None or directory.db.url == db.url:
            directory.invalidate()


def staff_by_codes(session: Session, codes: Sequence[str]) -> dict[str, Staff]:
    """Staff rows by code (missing codes are simply absent)."""
    if not codes:
        return {}
    rows = session.exec(select(Staff).where(col(Staff.code).in_(list(codes)))).all()
    return {s.code: s for s in rows}

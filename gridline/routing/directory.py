"""The per-process directory: the grid index and the address matcher, built once from the database.

Lookups happen on every inbound report, so both are kept in memory and rebuilt only after an import
(:meth:`Directory.invalidate`; the importers call :func:`invalidate_directories`, which reaches every
directory of this process) — or, inside a unit of work, after any process changed the grids or
addresses: ``grid_index(session)`` and ``address_matcher(session)`` compare the token of
``storage.directory_cache`` (read once per unit of work) with the one they were built under.
Building them reads the database: inside a unit of work pass its session
(``grid_index(work.session)``); on the event loop ``await directory.ready()`` first, which builds
them in a database thread, so the in-memory lookups after it never block the loop.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from sqlmodel import Session

from gridline.routing.addresses import AddressMatch, AddressMatcher
from gridline.routing.grids import GridIndex
from gridline.storage import directory as store
from gridline.storage import directory_cache
from gridline.storage.db import Database

if TYPE_CHECKING:
    from gridline.kernel.services import Services

_live: weakref.WeakSet[Directory] = weakref.WeakSet()


class Directory:
    """Cached :class:`GridIndex` and :class:`AddressMatcher` for one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._grids: GridIndex | None = None
        self._addresses: AddressMatcher | None = None
        self._token: str | None = None  # the grids token the index and matcher were built under
        _live.add(self)

    @classmethod
    def for_services(cls, services: Services) -> Directory:
        """The process's directory (``services.parts``, created on first use)."""
        return services.parts.get_or_make(Directory, lambda: cls(services.db))

    async def ready(self) -> Directory:
        """Build the index and the matcher (in a database thread) unless they are cached."""
        if self._grids is None or self._addresses is None:
            await self.db.run(self._build)
        return self

    def _build(self) -> None:
        with self.db.session() as session:
            self.grid_index(session)
            self.address_matcher(session)

    def _follow(self, session: Session) -> None:
        """Rebuild from the directory snapshot when another process (or an import) changed the grids."""
        snapshot = directory_cache.grids(session)
        if snapshot is None or snapshot.token == self._token:
            return
        with self._lock:
            if snapshot.token != self._token:
                self._grids = GridIndex.from_grids(snapshot.grids)
                self._addresses = None  # the same part: rebuilt on its next use
                self._token = snapshot.token

    def grid_index(self, session: Session | None = None) -> GridIndex:
        """The cached grid index, built on first use (from ``session`` when given)."""
        if session is not None:
            self._follow(session)
        index = self._grids
        if index is None:
            with self._lock:
                if self._grids is None:
                    if session is not None:
                        self._grids = GridIndex.from_grids(store.all_grids(session))
                    else:
                        with self.db.session() as own:
                            self._grids = GridIndex.from_grids(store.all_grids(own))
                index = self._grids
        return index

    def address_matcher(self, session: Session | None = None) -> AddressMatcher:
        """The cached address matcher, built on first use (from ``session`` when given)."""
        if session is not None:
            self._follow(session)
        matcher = self._addresses
        if matcher is None:
            with self._lock:
                if self._addresses is None:
                    if session is not None:
                        self._addresses = AddressMatcher(store.all_addresses(session))
                    else:
                        with self.db.session() as own:
                            self._addresses = AddressMatcher(store.all_addresses(own))
                matcher = self._addresses
        return matcher

    @property
    def grids(self) -> GridIndex:
        return self.grid_index()

    @property
    def addresses(self) -> AddressMatcher:
        return self.address_matcher()

    def invalidate(self) -> None:
        """Forget the cached index and matcher; the next lookup rebuilds them."""
        with self._lock:
            self._grids = None
            self._addresses = None
            self._token = None
        directory_cache.forget(self.db.engine)

    def locate(self, lon: float, lat: float) -> str | None:
        """The base grid code at a point (a resident's shared location)."""
        return self.grids.locate(lon, lat)

    def match_address(self, text: str) -> AddressMatch | None:
        """The directory entry named in ``text`` (an address or a whole report)."""
        return self.addresses.match(text)


def invalidate_directories(db: Database | None = None) -> None:
    """Invalidate every live directory of this process (of ``db`` only, when given)."""
    for directory in list(_live):
        if db is None or directory.db.url == db.url:
            directory.invalidate()

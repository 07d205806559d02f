"""Demo data: the sample city under ``config/demo/`` and synthetic cities for scale tests.

:func:`load_demo` fills a database with a believable slice of Zhengzhou's 高新区 (grids, address
directory, staff with their channels, a rota covering every hour of the week, some households), using
the same importers administrators use, so the demo exercises the real validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gridline.clock import SystemClock
from gridline.importers import ImportSummary
from gridline.importers.addresses import import_addresses
from gridline.importers.geojson import import_grids
from gridline.importers.households import import_households
from gridline.importers.residents import import_residents
from gridline.importers.rota import import_overrides, import_rota
from gridline.importers.staff import import_staff
from gridline.settings import Settings
from gridline.storage.db import Database

DEMO_DIR = Path(__file__).resolve().parents[2] / "config" / "demo"


@dataclass(frozen=True)
class DemoFiles:
    """The files of a demo city, in import order."""

    directory: Path

    @property
    def grids(self) -> Path:
        return self.directory / "grids.geojson"

    @property
    def addresses(self) -> Path:
        return self.directory / "addresses.csv"

    @property
    def staff(self) -> Path:
        return self.directory / "staff.csv"

    @property
    def rota(self) -> Path:
        return self.directory / "rota.csv"

    @property
    def overrides(self) -> Path:
        return self.directory / "overrides.csv"

    @property
    def residents(self) -> Path:
        return self.directory / "residents.csv"

    @property
    def households(self) -> Path:
        return self.directory / "households.csv"


def load_demo(
    db: Database, settings: Settings, *, directory: Path | None = None, now: datetime | None = None
) -> list[ImportSummary]:
    """Load a demo city (default ``config/demo/``) into ``db``, creating missing tables first.

    Meant for an empty database; on a filled one it updates the demo rows in place (imports are
    upserts and a rota import replaces the grids' shifts).
    """
    files = DemoFiles(directory or DEMO_DIR)
    when = now or SystemClock().now()
    db.create_all()
    summaries = [
        import_grids(db, files.grids),
        import_addresses(db, files.addresses),
        import_staff(db, files.staff, now=when),
        import_rota(db, files.rota, tz=settings.timezone),
    ]
    if files.overrides.is_file():
        summaries.append(import_overrides(db, files.overrides, tz=settings.timezone))
    if files.residents.is_file():
        summaries.append(import_residents(db, files.residents, now=when))
    if files.households.is_file():
        summaries.append(import_households(db, files.households, settings, now=when))
    return summaries

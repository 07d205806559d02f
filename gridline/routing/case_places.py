"""Whether two reports of one category are about the same place, so that the later one may join
the earlier case (``routing.cases.find_duplicate``) instead of being filed and paged apart.

An outage (water, power, gas / heating) covers a compound or more: 3号楼 and 5号楼 without water
are one problem, so in one grid any two reports of it are. Anything else is where it is: a leak
in 3号楼's stairwell and a bare wire at 5号楼 are two problems even when the model gives both the
same category, so they are the same place only in the same compound and — when both addresses
name one — the same building. A report whose place is not known beyond its grid stays joinable
by the grid, as before (nothing finer to tell them apart by).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from gridline.routing.addresses import normalize_address

# Problems that reach every building of a compound at once.
AREA_WIDE = frozenset({"water_supply", "power_supply", "gas_heating"})

# After ``normalize_address``: 3号楼 / 3# / 3幢 are all 「3栋」, 199号院 is 「199号」.
_BUILDING = re.compile(r"(?P<building>[0-9a-z]+)栋")
_UNIT_OR_ROOM = re.compile(r"\d+单元.*$|\d{3,5}$")


class Place(NamedTuple):
    """A case's address as far as telling problems apart goes: the compound and the building."""

    compound: str
    building: str | None


def place_of(address: str | None) -> Place | None:
    """The compound and building an address names (None: no address)."""
    if not address or not address.strip():
        return None
    key = normalize_address(address)
    found = _BUILDING.search(key)
    if found is not None:
        return Place(key[: found.start()], found["building"])
    return Place(_UNIT_OR_ROOM.sub("", key), None)


def same_place(category: str, address: str | None, other_address: str | None) -> bool:
    """Whether a report of ``category`` at ``address`` is at the place of a case at ``other_address``
    (in the same grid, or at the same address: the query's part)."""
    if category in AREA_WIDE:
        return True
    here, there = place_of(address), place_of(other_address)
    if here is None or there is None:
        return True  # one of them is known by its grid only
    if not (here.compound.startswith(there.compound) or there.compound.startswith(here.compound)):
        return False
    return here.building is None or there.building is None or here.building == there.building

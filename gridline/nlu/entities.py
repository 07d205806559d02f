"""Address entities from residents' text: rules plus the address directory's lookup tables.

What is extracted (character offsets into the text as the resident sent it):

==========  ==========================================  =====================
entity      recognised forms                            value
==========  ==========================================  =====================
address     road + number: 桐柏路199号院, 科学大道100号   the text, half-width
compound    lookup table ``compound`` (address           the text (or its
            directory), or a name ending in 小区 / 花园   synonym's value)
            / 家园 / 新村 / 家属院 / 公寓 ...
building    3号楼, 3栋, 3幢, 3#楼, 三号楼                 ``3号楼``
unit        2单元, 二单元                                 ``2单元``
room        501室, 501房; a bare 501 right after a unit   ``501``
            or after 楼上/楼下/隔壁/对门; 3-2-501
==========  ==========================================  =====================

Rules instead of a learned tagger because the forms are regular, the address directory gives the
names, and a wrong address costs a wrong grid: predictable beats clever here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from gridline.nlu.text import chinese_number, normalise_keep_offsets
from gridline.nlu.types import Entity

EXTRACTOR = "GridlineEntityRules"

# Characters that end a place name when walking left from 路 / 小区: words residents put before an
# address (俺家在…, 住的是…, 咱…).
_STOP = set(
    "在住是俺我你他她家的到从咱们就那这个里找和与跟去来了啊呢吧说都也还又"
    "给对把被让请帮咋怎么嘛吗呀哦嗯，,。.!！?？、 :：;；\"'“”（）()[]【】"
)
_GENERIC_NAMES = (
    "小区",
    "社区",
    "院里",
    "楼下",
    "门口",
    "附近",
    "对面",
    "旁边",
    "这个",
    "那个",
    "俺们",
    "我们",
    "咱们",
    "周围",
    "后面",
    "前面",
)

# Words that never occur in a compound's name: 「物业不管小区」 and 「一下雨小区」 are not names.
NOT_IN_NAMES = (
    "物业",
    "下雨",
    "雨后",
    "老旧",
    "有人",
    "快递",
    "翻墙",
    "进",
    "费",
    "不管",
    "屋顶",
    "楼顶",
    "整个",
    "全",
)

_CN_NUM = "一二三四五六七八九十两"
_ROAD_NUMBER = re.compile(r"(大道|大街|路|街|巷|胡同|环)\s*(\d{1,5}(?:-\d{1,4})?)\s*号(院)?")
_COMPOUND_SUFFIX = re.compile(r"家属院|家属楼|小区|花园|家园|新村|公寓|花苑|嘉园|名苑|雅苑|新城|庄园")
_BUILDING = re.compile(rf"(?<![\d\-])(\d{{1,3}}|[{_CN_NUM}]{{1,3}})\s*(?:号楼|号栋|栋|幢|#楼|#|号院楼)")
_UNIT = re.compile(rf"(?<![\d\-])(\d{{1,2}}|[{_CN_NUM}]{{1,3}})\s*单元")
_ROOM_SUFFIXED = re.compile(r"(?<![\d\-])(\d{3,4})\s*(?:室|房间|号房|房)")
_ROOM_NEIGHBOUR = re.compile(r"(?:楼上|楼下|隔壁|对门|对面)\s*(\d{3,4})(?:室|号)?(?!\d)")
_ROOM_BARE = re.compile(r"\s*(?:的|号)?\s*(\d{3,4})(?:号|室)?(?!\d)")
_DASHED = re.compile(r"(?<![\d\-])(\d{1,3})\s*-\s*(\d{1,2})\s*-\s*(\d{3,4})(?![\d\-])")

_PRIORITY = {"address": 0, "compound": 1, "building": 2, "unit": 3, "room": 4}


@dataclass(frozen=True)
class Gazetteer:
    """Names from the address directory (lookup tables) and entity synonyms."""

    compounds: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    roads: tuple[str, ...] = ()
    synonyms: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_tables(cls, lookups: dict[str, list[str]], synonyms: dict[str, str]) -> Gazetteer:
        def clean(names: Iterable[str]) -> tuple[str, ...]:
            return tuple(sorted({normalise_keep_offsets(n).strip() for n in names if n.strip()}, key=len, reverse=True))

        return cls(
            compounds=clean(lookups.get("compound", [])),
            addresses=clean(lookups.get("address", [])),
            roads=clean(lookups.get("road", [])),
            synonyms=dict(synonyms),
        )


class EntityExtractor:
    """Finds address, compound, building, unit and room mentions; never raises on odd text."""

    def __init__(self, gazetteer: Gazetteer | None = None) -> None:
        self.gazetteer = gazetteer or Gazetteer()
        self._compound_re = _alternation(self.gazetteer.compounds)
        self._address_re = _alternation(self.gazetteer.addresses)
        self._roads = set(self.gazetteer.roads)
        self._max_road = max((len(r) for r in self._roads), default=0)

    def extract(self, text: str) -> list[Entity]:
        """Entities in ``text`` ordered by position; overlapping candidates keep the longest."""
        norm = normalise_keep_offsets(text)
        candidates: list[Entity] = []
        candidates += self._lookup(norm, self._address_re, "address")
        candidates += self._lookup(norm, self._compound_re, "compound")
        candidates += self._road_addresses(norm)
        candidates += self._suffix_compounds(norm)
        candidates += _dashed(norm)
        candidates += _numbered(norm, _BUILDING, "building", "号楼")
        units = _numbered(norm, _UNIT, "unit", "单元")
        candidates += units
        candidates += _rooms(norm, units)
        chosen = _resolve_overlaps(candidates)
        return [self._with_synonym(e, text) for e in chosen]

    def _with_synonym(self, ent: Entity, original: str) -> Entity:
        value = self.gazetteer.synonyms.get(
            ent.value, self.gazetteer.synonyms.get(original[ent.start : ent.end], ent.value)
        )
        return Entity(ent.entity, value, ent.start, ent.end, EXTRACTOR, 1.0)

    @staticmethod
    def _lookup(norm: str, pattern: re.Pattern[str] | None, name: str) -> list[Entity]:
        if pattern is None:
            return []
        return [Entity(name, m.group(0), m.start(), m.end()) for m in pattern.finditer(norm)]

    def _road_addresses(self, norm: str) -> list[Entity]:
        out = []
        for m in _ROAD_NUMBER.finditer(norm):
            road_end = m.start() + len(m.group(1))
            start = self._road_start(norm, m.start(), road_end)
            if start is None:
                continue
            out.append(Entity("address", norm[start : m.end()], start, m.end()))
        return out

    def _road_start(self, norm: str, suffix_start: int, road_end: int) -> int | None:
        for length in range(min(self._max_road, road_end), 1, -1):
            if norm[road_end - length : road_end] in self._roads:
                return road_end - length
        start = walk_left(norm, suffix_start, limit=5)
        return start if suffix_start - start >= 1 else None

    def _suffix_compounds(self, norm: str) -> list[Entity]:
        out = []
        for m in _COMPOUND_SUFFIX.finditer(norm):
            start = walk_left(norm, m.start(), limit=6)
            name = norm[start : m.start()]
            if len(name) < 2 or any(name.endswith(g) for g in _GENERIC_NAMES):
                continue
            if any(word in name for word in NOT_IN_NAMES):
                continue
            out.append(Entity("compound", norm[start : m.end()], start, m.end()))
        return out


def _alternation(names: tuple[str, ...]) -> re.Pattern[str] | None:
    if not names:
        return None
    return re.compile("|".join(re.escape(n) for n in names))


def walk_left(norm: str, end: int, *, limit: int) -> int:
    start = end
    while start > 0 and end - start < limit:
        ch = norm[start - 1]
        if ch in _STOP or not ("\u4e00" <= ch <= "\u9fff"):
            break
        start -= 1
    return start


def _numbered(norm: str, pattern: re.Pattern[str], name: str, suffix: str) -> list[Entity]:
    out = []
    for m in pattern.finditer(norm):
        number = chinese_number(m.group(1))
        if number is None or number == 0:
            continue
        out.append(Entity(name, f"{number}{suffix}", m.start(), m.end()))
    return out


def _rooms(norm: str, units: list[Entity]) -> list[Entity]:
    out = [Entity("room", m.group(1), m.start(), m.end()) for m in _ROOM_SUFFIXED.finditer(norm)]
    out += [Entity("room", m.group(1), m.start(1), m.end()) for m in _ROOM_NEIGHBOUR.finditer(norm)]
    for unit in units:
        m = _ROOM_BARE.match(norm, unit.end)
        if m:
            start = m.start(1)
            end = m.end()
            out.append(Entity("room", m.group(1), start, end))
    return out


def _dashed(norm: str) -> list[Entity]:
    out = []
    for m in _DASHED.finditer(norm):
        b, u, r = m.group(1), m.group(2), m.group(3)
        out.append(Entity("building", f"{int(b)}号楼", m.start(1), m.end(1)))
        out.append(Entity("unit", f"{int(u)}单元", m.start(2), m.end(2)))
        out.append(Entity("room", r, m.start(3), m.end(3)))
    return out


def _resolve_overlaps(candidates: list[Entity]) -> list[Entity]:
    ranked = sorted(candidates, key=lambda e: (-(e.end - e.start), _PRIORITY.get(e.entity, 9), e.start))
    taken: list[Entity] = []
    for cand in ranked:
        if all(cand.end <= t.start or cand.start >= t.end for t in taken):
            taken.append(cand)
    return sorted(taken, key=lambda e: e.start)

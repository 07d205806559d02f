"""The address directory of the grid archives: normalising and matching Chinese addresses.

People write the same place many ways: ``郑州市高新区桐柏路199号院``, ``桐柏路１９９号``, ``桐柏路一百九十九号院``,
``桐柏小区``, or inside a whole sentence (``俺们桐柏路199号院3号楼停水了``). Matching normalises the text
(NFKC, Chinese numerals before a unit word, 号院/号楼/幢/室 variants, administrative prefixes) and looks it
up in three indexes built once: the whole normalised address, house number → roads on which it exists,
and compound names / aliases. Nothing scans the directory with an edit distance: the fuzzy step only
compares roads that carry the same house number, or aliases that share character pairs with the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from gridline.routing.latin_addresses import LatinRoads
from gridline.storage.models import Address

# Leading administrative parts residents may or may not write; stripped from both sides.
ADMIN_PREFIXES = (
    "中华人民共和国", "河南省", "河南", "郑州市", "郑州", "高新技术产业开发区", "高新技术开发区", "高新开发区",
    "高新区", "中原区", "二七区", "金水区", "管城回族区", "管城区", "惠济区", "郑东新区", "经济技术开发区",
    "经开区", "航空港区", "上街区",
)  # fmt: skip
_SUBDISTRICT = re.compile(r"^[\u4e00-\u9fff]{2,4}?(?:街道办事处|办事处|街道)")
_ROAD = r"(?:大道|大街|路|街|巷|道)"
_CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千]+(?=号|栋|幢|楼|单元|室|院|层|户|#)")
_PUNCT = re.compile(r"[\s,，。、.:：!！?？()（）\[\]【】<>《》\"'“”‘’/\\_~]+")
_HOUSE_NUMBER = re.compile(r"\d+(?:-\d+)?")
_DETAIL = re.compile(r"^号?(?:(?P<building>\d+)栋)?(?:(?P<unit>\d+)单元)?(?:(?P<room>\d{2,5}))?")
_ROAD_NUMBER = re.compile(rf"^(?P<road>.*?{_ROAD})(?P<number>\d+(?:-\d+)?)号")
_ALIAS_SPLIT = re.compile(r"[|;；]")
# A district or sub-district name not in ADMIN_PREFIXES still left in front of a road (合成区纬8路).
_ROAD_ADMIN_PREFIX = re.compile(r"^[\u4e00-\u9fff]{2,6}?(?:省|市|区|县|街道|办事处|镇|乡)")

SCORE_EXACT = 1.0
SCORE_ROAD_NUMBER = 0.95
SCORE_ALIAS = 0.9
SCORE_ROAD_STEM = 0.85
SCORE_FUZZY_ROAD = 0.7
FUZZY_ALIAS_MIN = 0.65


def chinese_numeral_value(text: str) -> int:
    """``一百九十九`` → 199, ``一九九`` → 199, ``十二`` → 12, ``两`` → 2."""
    if not any(ch in _CN_UNITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        else:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
    return total + current


def split_aliases(value: str | None) -> list[str]:
    """Aliases as written in a CSV cell: separated by ``|``, ``;`` or ``；``."""
    if not value:
        return []
    return [part.strip() for part in _ALIAS_SPLIT.split(value) if part.strip()]


def normalize_text(text: str) -> str:
    """Normalise free text the same way as addresses, without removing anything but punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _PUNCT.sub("", text)
    text = _CN_NUMBER.sub(lambda m: str(chinese_numeral_value(m.group())), text)
    text = re.sub(r"(\d)#", r"\1栋", text)
    text = re.sub(r"(\d)(?:号楼|号栋|幢|号幢)", r"\1栋", text)
    text = re.sub(r"(\d)(?:号大院|号院|大院|院)", r"\1号", text)
    text = re.sub(r"(\d)(?:号房|室|户)", r"\1", text)
    return text


def strip_admin_prefixes(text: str) -> str:
    """Drop leading province / city / district / sub-district names (people often leave them out)."""
    changed = True
    while changed:
        changed = False
        for prefix in ADMIN_PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                text = text[len(prefix) :]
                changed = True
        match = _SUBDISTRICT.match(text)
        if match and len(text) > match.end():
            text = text[match.end() :]
            changed = True
    return text


def normalize_address(address: str) -> str:
    """The key an address is stored and matched under (``Address.normalized``)."""
    return strip_admin_prefixes(normalize_text(address))


def bare_road(road: str) -> str:
    """The road name without any administrative name written before it (``XX区长椿路`` → ``长椿路``)."""
    while (match := _ROAD_ADMIN_PREFIX.match(road)) and len(road) - match.end() >= 2:
        road = road[match.end() :]
    return road


def road_stem(road: str) -> str:
    """``桐柏路`` → ``桐柏``: residents sometimes leave out the road word."""
    return re.sub(rf"{_ROAD}$", "", road)


def edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one substitution, insertion or deletion."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@dataclass(frozen=True)
class AddressMatch:
    """A directory entry found for a text, and why."""

    address_id: int
    address: str
    grid_code: str
    compound: str | None
    score: float
    how: str  # exact | road_number | road_stem | alias | fuzzy_road | fuzzy_alias
    detail: str = ""  # building / unit / room the resident added, e.g. "3栋2单元401"
    lat: float | None = None
    lon: float | None = None
    alternatives: tuple[int, ...] = field(default=())  # other entries that fit as well (ambiguous)


@dataclass(frozen=True)
class _Entry:
    id: int
    address: str
    grid_code: str
    compound: str | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class _Candidate:
    entry_id: int
    score: float
    how: str
    end: int  # where the match ends in the normalised text (detail is parsed after it)
    length: int


class AddressMatcher:
    """Matches addresses and report texts against the directory, in memory."""

    def __init__(self, addresses: Iterable[Address]) -> None:
        self._entries: dict[int, _Entry] = {}
        self._exact: dict[str, list[int]] = {}
        self._by_number: dict[str, list[tuple[str, str, int]]] = {}
        self._aliases: dict[str, list[int]] = {}
        self._alias_bigrams: dict[str, set[str]] = {}
        self._latin = LatinRoads()
        for row in addresses:
            if row.id is None:
                continue
            self._add(row)
        self._alias_lengths = sorted({len(a) for a in self._aliases}, reverse=True)

    def __len__(self) -> int:
        return len(self._entries)

    def _add(self, row: Address) -> None:
        assert row.id is not None
        entry = _Entry(row.id, row.address, row.grid_code, row.compound, row.lat, row.lon)
        self._entries[row.id] = entry
        key = normalize_address(row.address)
        self._exact.setdefault(key, []).append(row.id)
        parsed = _ROAD_NUMBER.match(key)
        if parsed:
            road = bare_road(parsed.group("road"))
            self._by_number.setdefault(parsed.group("number"), []).append((road, road_stem(road), row.id))
            self._latin.add(road, road_stem(road))
        names = [*(row.aliases or []), *([row.compound] if row.compound else [])]
        if not parsed:
            names.append(row.address)  # an address without a road number is known by its name
        for name in names:
            alias = normalize_address(name)
            if len(alias) < 2:
                continue
            ids = self._aliases.setdefault(alias, [])
            if row.id not in ids:
                ids.append(row.id)
            for bigram in _bigrams(alias):
                self._alias_bigrams.setdefault(bigram, set()).add(alias)

    def match(self, text: str) -> AddressMatch | None:
        """The directory entry ``text`` names: the whole text first, then anything inside it."""
        text = self._latin.rewrite(text)
        key = normalize_address(text)
        ids = self._exact.get(key)
        if ids:
            return self._result(_Candidate(ids[0], SCORE_EXACT, "exact", len(key), len(key)), key, ids)
        return self.find_in_text(text)

    def find_in_text(self, text: str) -> AddressMatch | None:
        """The best directory entry mentioned anywhere in ``text`` (a whole report sentence)."""
        norm = normalize_text(self._latin.rewrite(text))
        candidates = self._road_number_candidates(norm) + self._alias_candidates(norm)
        if not candidates:
            candidates = self._fuzzy_alias_candidates(norm)
        if not candidates:
            return None
        best = max(candidates, key=lambda c: (c.score, c.length))
        tied = sorted({c.entry_id for c in candidates if c.score == best.score and c.length == best.length})
        return self._result(best, norm, tied)

    def _result(self, best: _Candidate, norm: str, tied: list[int]) -> AddressMatch:
        entry = self._entries[best.entry_id]
        detail_match = _DETAIL.match(norm[best.end :])
        detail = ""
        if detail_match:
            parts = detail_match.groupdict()
            detail = "".join(
                f"{parts[name]}{suffix}"
                for name, suffix in (("building", "栋"), ("unit", "单元"), ("room", "室"))
                if parts[name]
            )
        return AddressMatch(
            address_id=entry.id,
            address=entry.address,
            grid_code=entry.grid_code,
            compound=entry.compound,
            score=best.score,
            how=best.how,
            detail=detail,
            lat=entry.lat,
            lon=entry.lon,
            alternatives=tuple(i for i in tied if i != entry.id),
        )

    def _road_number_candidates(self, norm: str) -> list[_Candidate]:
        out: list[_Candidate] = []
        for m in _HOUSE_NUMBER.finditer(norm):
            after = norm[m.end() : m.end() + 2]
            if after.startswith(("栋", "单元", "层")):
                continue  # a building or floor, not a house number
            roads = self._by_number.get(m.group())
            if not roads:
                continue
            window = norm[max(0, m.start() - 16) : m.start()]
            end = m.end() + (1 if after.startswith("号") else 0)
            for road, stem, entry_id in roads:
                if window.endswith(road):
                    out.append(_Candidate(entry_id, SCORE_ROAD_NUMBER, "road_number", end, len(road)))
                elif len(stem) >= 2 and window.endswith(stem):
                    out.append(_Candidate(entry_id, SCORE_ROAD_STEM, "road_stem", end, len(stem)))
                elif len(road) >= 3 and any(
                    edit_distance_at_most_one(window[-n:], road) for n in (len(road) - 1, len(road), len(road) + 1)
                ):
                    out.append(_Candidate(entry_id, SCORE_FUZZY_ROAD, "fuzzy_road", end, len(road)))
        return out

    def _alias_candidates(self, norm: str) -> list[_Candidate]:
        out: list[_Candidate] = []
        for start in range(len(norm)):
            for length in self._alias_lengths:
                piece = norm[start : start + length]
                if len(piece) < length:
                    continue
                for entry_id in self._aliases.get(piece, ()):
                    out.append(_Candidate(entry_id, SCORE_ALIAS, "alias", start + length, length))
        return out

    def _fuzzy_alias_candidates(self, norm: str) -> list[_Candidate]:
        grams = _bigrams(norm)
        shared: dict[str, int] = {}
        for gram in grams:
            for alias in self._alias_bigrams.get(gram, ()):
                shared[alias] = shared.get(alias, 0) + 1
        out: list[_Candidate] = []
        for alias, count in shared.items():
            ratio = count / max(1, len(_bigrams(alias)))
            if count >= 2 and ratio >= FUZZY_ALIAS_MIN:
                end = norm.find(alias[-2:]) + 2 if alias[-2:] in norm else len(norm)
                for entry_id in self._aliases[alias]:
                    out.append(_Candidate(entry_id, round(0.75 * ratio, 3), "fuzzy_alias", end, count))
        return out


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}

"""Whether a message is only a place — an address, maybe with a greeting — and says no problem.

A resident who sends 「红松路12号3单元」 or 「你好，桐柏路199号院」 has said where, not what is wrong;
the classifier still picks its likeliest category for those characters (a road's name reads like
``road_facility``). The conversation asks what the problem is instead
(``core.conversation.understood``), and this module is how it knows: take away the places the entity
extractor found, the administrative areas named before them (金水区, 文化路街道, 莲花社区), floors
and bare numbers, greetings and the words residents put around an address (我家住在, 地址是);
if nothing with letters is left, the message was only a place.

The words are vocabulary Gridline reads (like the extractor's), not text it shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gridline.nlu.entities import NOT_IN_NAMES, walk_left
from gridline.nlu.text import has_content, normalise_keep_offsets
from gridline.nlu.types import ENTITY_TYPES, Entity

# Administrative areas above an address: 郑州市, 金水区, 文化路街道, 石佛镇, 莲花社区 (longer suffixes first).
_AREA_SUFFIX = re.compile(r"街道办事处|街道办|街道|办事处|社区|市|区|县|镇|乡|村")
# An area's own name is short: a longer run before 区 / 村 is a sentence (「垃圾没人清理社区」).
_AREA_NAME_MAX = 4
# Floors and numbers the extractor leaves alone (6楼 is a floor, not a building; a bare 302).
_DETAIL = re.compile(r"[\d一二三四五六七八九十]+\s*(?:楼|层|号|室|户)?|[#\-]")
# Greetings and the words around an address; longer forms first so that 我家住在 goes whole.
_AROUND = re.compile(
    r"你们好|您们好|大家好|你好|您好|早上好|上午好|中午好|下午好|晚上好|哈喽|\bhello\b|\bhi\b|嗨|喂|"
    r"在吗|在么|在不在|打扰一下|打扰了|麻烦|请问|网格长|网格员|同志|师傅|老师|"
    r"我家住在|俺家住在|我家住|俺家住|我家在|俺家在|我家是|家住在|家住|我住在|俺住在|我住|俺住|"
    r"我在|俺在|我是|我家|俺家|咱家|地址是|地址|住址是|住址|位置是|位置|这里是|这边是|这是|"
    r"门口|楼下|附近|旁边|对面|这里|那里|在|住|是|的|里",
    re.IGNORECASE,
)


def only_a_place(text: str, entities: Iterable[Entity]) -> str | None:
    """The place ``text`` names, as written (「桐柏路199号院3号楼」), when it names nothing else —
    no problem, no question; None when it says more (or names no place at all)."""
    norm = normalise_keep_offsets(text)
    places = [(e.start, e.end) for e in entities if e.entity in ENTITY_TYPES and 0 <= e.start < e.end <= len(norm)]
    masked = _masked(norm, places)
    places += _areas(masked)
    if not places:
        return None
    masked = _masked(norm, places)
    first = min(start for start, _ in places)
    last = max(end for _, end in places)
    for m in _DETAIL.finditer(masked):
        if m.start() >= first:
            last = max(last, m.end())
    rest = _AROUND.sub(" ", _DETAIL.sub(" ", masked))
    if has_content(rest):
        return None
    return text[first:last].strip() or None


def _masked(norm: str, spans: list[tuple[int, int]]) -> str:
    """``norm`` with ``spans`` blanked out (same length, so offsets still hold)."""
    chars = list(norm)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _areas(masked: str) -> list[tuple[int, int]]:
    """Spans of administrative areas (a short name and its suffix) outside the entities found."""
    spans: list[tuple[int, int]] = []
    previous_end = 0
    for m in _AREA_SUFFIX.finditer(masked):
        start = max(walk_left(masked, m.start(), limit=_AREA_NAME_MAX), previous_end)
        name = masked[start : m.start()]
        if len(name) < 2 or any(word in name for word in NOT_IN_NAMES):
            continue
        spans.append((start, m.end()))
        previous_end = m.end()
    return spans

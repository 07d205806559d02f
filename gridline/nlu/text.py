"""Cleaning residents' text before classification and entity extraction.

Two normalisations, for two purposes:

* :func:`normalise_keep_offsets` changes characters one for one (full-width digits and letters to
  ASCII, control characters to spaces) so that entity offsets found in its output are offsets into
  the text the resident actually sent.
* :func:`normalise_for_classifier` may change the length (Unicode NFKC, lower case, collapsed
  whitespace, truncation): only the classifier sees it.
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata

# Longer messages are cut before classification: the problem is stated at the start, and a 10,000
# character paste must not cost more than a short message.
MAX_CLASSIFIER_CHARS = 600

_FULL_WIDTH_START, _FULL_WIDTH_END = 0xFF01, 0xFF5E
_WHITESPACE = re.compile(r"\s+")
_CONTENT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffA-Za-z]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def _translation_table() -> dict[int, str]:
    table: dict[int, str] = {code: chr(code - 0xFEE0) for code in range(_FULL_WIDTH_START, _FULL_WIDTH_END + 1)}
    table[0x3000] = " "  # ideographic space
    for code in range(0x10000):
        if unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp") and chr(code) not in "\t\n":
            table[code] = " "
    table[0xE0001] = " "  # language tag, the one non-BMP format character residents' phones send
    return table


_TABLE = _translation_table()


# A terminal escape sequence (ESC [ 31 m: a colour code pasted from a console) is not words: its
# letters and digits would otherwise reach the classifier as text ("[31m").
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def normalise_keep_offsets(text: str) -> str:
    """Full-width → half-width, control/format characters and escape sequences → spaces; same length
    as ``text``."""
    if "\x1b" in text:
        text = _ESCAPE_SEQUENCE.sub(lambda m: " " * len(m.group()), text)
    return text.translate(_TABLE)


# A link is not words: its letters (https, www, com, a shortener's code) would reach the classifier as
# text — a bare link was read as a status question (check_status, 0.39). Printable ASCII only, so a
# Chinese word written right after a link stays (http://t.cn/A6xyz点击领取 → 点击领取).
_LINK = re.compile(
    r"(?:https?://|www\.)[!-~]+"
    r"|(?<![!-~])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|top|xyz|cc|vip|info|io|me|co)(?:/[!-~]*)?(?![a-z0-9.])",
    re.IGNORECASE,
)


def normalise_for_classifier(text: str) -> str:
    """The form the classifier sees: NFKC, lower case, links as spaces, single spaces, at most
    ``MAX_CLASSIFIER_CHARS``."""
    cleaned = unicodedata.normalize("NFKC", normalise_keep_offsets(text)).lower()
    if "." in cleaned:
        cleaned = _LINK.sub(" ", cleaned)
    cleaned = _WHITESPACE.sub(" ", cleaned).strip()
    return cleaned[:MAX_CLASSIFIER_CHARS]


def has_content(text: str) -> bool:
    """True when the text has at least one Chinese character or Latin letter (not only emoji/digits)."""
    return _CONTENT.search(text) is not None


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def chinese_number(text: str) -> int | None:
    """``"3"`` → 3, ``"十二"`` → 12, ``"二十一"`` → 21, ``"九"`` → 9; None when not a number below 100."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        if len(text) == 1:
            return _CN_DIGITS[text]
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    tens, _, ones = text.partition("十")
    if "十" in ones:
        return None
    tens_value = _CN_DIGITS.get(tens, -1) if tens else 1
    ones_value = _CN_DIGITS.get(ones, -1) if ones else 0
    if tens_value < 0 or ones_value < 0:
        return None
    return tens_value * 10 + ones_value


_jieba_ready = False


def jieba_words(text: str) -> list[str]:
    """Words of ``text`` by jieba (its dictionary ships inside the package: nothing is downloaded)."""
    global _jieba_ready
    import jieba  # only the word-feature method needs it; loading its dictionary takes a second

    if not _jieba_ready:
        jieba.setLogLevel(logging.WARNING)
        _jieba_ready = True
    return [w for w in jieba.lcut(text) if w.strip()]


def jieba_search_words(text: str) -> list[str]:
    """jieba's search mode: the words and, for long words, the shorter words inside them too."""
    jieba_words("")  # loads the dictionary once, quietly
    import jieba

    return [w for w in jieba.lcut_for_search(text) if w.strip()]


_syllables: dict[str, str] = {}


def _syllable(ch: str) -> str:
    """The toneless pinyin of one character (its most common reading), or "" when not Chinese."""
    found = _syllables.get(ch)
    if found is None:
        from pypinyin.contrib.tone_convert import to_normal
        from pypinyin.pinyin_dict import pinyin_dict  # ships inside pypinyin: nothing is downloaded

        readings = pinyin_dict.get(ord(ch)) if _CJK.match(ch) else None
        found = to_normal(readings.split(",")[0]) if readings else ""
        _syllables[ch] = found
    return found


def pinyin_grams(text: str) -> list[str]:
    """Toneless pinyin syllables of the Chinese characters in ``text``, and pairs of neighbours.

    Features that survive speech recognition: 停水 and a recogniser's 亭水 are both ``ting shui``.
    One reading per character, looked up without segmenting (a fraction of the time of pypinyin's
    phrase-aware conversion); training and parsing use the same function, so a heteronym read the
    "wrong" way is at least read the same way every time.
    """
    syllables = [s for s in (_syllable(ch) for ch in text) if s]
    return syllables + [f"{a}_{b}" for a, b in itertools.pairwise(syllables)]

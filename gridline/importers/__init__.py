"""Importing grids, addresses, staff, rotas and residents from the files administrators keep.

Every import is all-or-nothing: the whole file is read and validated first; only when there is no
problem at all is it written, in one transaction. Problems name where they are (line number of a CSV
row, index/code/name of a GeoJSON feature) so the file can be fixed in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridline.i18n import t

# Files above this size are refused before being read (commands take ``--max-size-mb``).
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class Invalid(ValueError):
    """A value that cannot be used, as a catalogue key with its parameters (shown in any language)."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(t(key, "en", **params))
        self.key = key
        self.params = params


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with an import file: where (line, feature, event, file) and what."""

    where_key: str
    where_params: dict[str, Any]
    key: str
    params: dict[str, Any]

    @classmethod
    def in_file(cls, name: str, key: str, /, **params: Any) -> ImportProblem:
        return cls("directory.where.file", {"name": name}, key, params)

    @classmethod
    def at_line(cls, line: int, key: str, /, **params: Any) -> ImportProblem:
        return cls("directory.where.line", {"line": line}, key, params)

    @classmethod
    def invalid_at_line(cls, line: int, exc: Invalid) -> ImportProblem:
        return cls.at_line(line, exc.key, **exc.params)

    @property
    def where(self) -> str:
        return t(self.where_key, "en", **self.where_params)

    @property
    def message(self) -> str:
        return t(self.key, "en", **self.params)

    def text(self, lang: str | None = None) -> str:
        return f"{t(self.where_key, lang, **self.where_params)}: {t(self.key, lang, **self.params)}"

    def __str__(self) -> str:
        return self.text("en")


class ImportFailed(Exception):
    """The file was not imported; ``problems`` says why (nothing was written)."""

    def __init__(self, source: str, problems: list[ImportProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self.text("en"))

    def text(self, lang: str | None = None, limit: int = 50) -> str:
        lines = [t("directory.summary.failed", lang, source=self.source, count=len(self.problems))]
        lines.extend(f"  {p.text(lang)}" for p in self.problems[:limit])
        if len(self.problems) > limit:
            lines.append("  " + t("directory.summary.more", lang, count=len(self.problems) - limit))
        return "\n".join(lines)


@dataclass
class ImportSummary:
    """What an import wrote. ``kind`` is a catalogue key under ``directory.kind``."""

    kind: str
    source: str
    created: int = 0
    updated: int = 0
    removed: int = 0
    # People no longer listed by a roster re-import (marked removed, not deleted).
    left: int = 0
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)

    def text(self, lang: str | None = None) -> str:
        kind = t(f"directory.kind.{self.kind}", lang)
        parts = [t("directory.summary.counts", lang, kind=kind, source=self.source, created=self.created,
                   updated=self.updated)]  # fmt: skip
        if self.removed:
            parts.append(t("directory.summary.removed", lang, removed=self.removed))
        if self.left:
            parts.append(t("directory.summary.left", lang, left=self.left))
        if self.encoding and self.encoding not in ("utf-8", "utf-8-sig"):
            parts.append(t("directory.summary.encoding", lang, encoding=self.encoding))
        return t("list.clause_separator", lang).join(parts) + "".join(f"\n  {note}" for note in self.notes)

    def __str__(self) -> str:
        return self.text("en")


Source = Path | str | bytes


def read_source(source: Source, *, max_bytes: int = DEFAULT_MAX_BYTES, name: str | None = None) -> tuple[bytes, str]:
    """The bytes of a file (path) or of an upload (bytes), refusing anything over ``max_bytes``."""
    if isinstance(source, bytes):
        label = name or "upload"
        if len(source) > max_bytes:
            raise ImportFailed(label, [_too_big(label, len(source), max_bytes)])
        return source, label
    path = Path(source)
    label = name or path.name
    if not path.is_file():
        raise ImportFailed(label, [ImportProblem.in_file(label, "directory.file.not_found", path=str(path))])
    size = path.stat().st_size
    if size > max_bytes:
        raise ImportFailed(label, [_too_big(label, size, max_bytes)])
    return path.read_bytes(), label


def _too_big(label: str, size: int, limit: int) -> ImportProblem:
    return ImportProblem.in_file(
        label, "directory.file.too_big", size_mb=f"{size / 1_048_576:.1f}", limit_mb=f"{limit / 1_048_576:.1f}"
    )

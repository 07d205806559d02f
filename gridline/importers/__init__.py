"""Importing grids, addresses, staff, rotas and residents from the files administrators keep.

Every import is all-or-nothing: the whole file is read and validated first; only when there is no
problem at all is it written, in one transaction. Problems name where they are (line number of a CSV
row, index/code/name of a GeoJSON feature) so the file can be fixed in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Files above this size are refused before being read (commands take ``--max-size-mb``).
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with an import file."""

    where: str  # "line 12", "feature #3 (code GX01, name 翠竹社区)", or the file name
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ImportFailed(Exception):
    """The file was not imported; ``problems`` says why (nothing was written)."""

    def __init__(self, source: str, problems: list[ImportProblem]) -> None:
        self.source = source
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{source}: {len(problems)} problem(s), nothing imported\n{shown}{more}")


@dataclass
class ImportSummary:
    """What an import wrote."""

    kind: str
    source: str
    created: int = 0
    updated: int = 0
    removed: int = 0
    notes: list[str] = field(default_factory=list)
    encoding: str | None = None

    def __str__(self) -> str:
        parts = [f"{self.kind} from {self.source}: {self.created} created, {self.updated} updated"]
        if self.removed:
            parts.append(f"{self.removed} replaced")
        if self.encoding and self.encoding not in ("utf-8", "utf-8-sig"):
            parts.append(f"decoded as {self.encoding}")
        return ", ".join(parts) + "".join(f"\n  {note}" for note in self.notes)


Source = Path | str | bytes


def read_source(source: Source, *, max_bytes: int = DEFAULT_MAX_BYTES, name: str | None = None) -> tuple[bytes, str]:
    """The bytes of a file (path) or of an upload (bytes), refusing anything over ``max_bytes``."""
    if isinstance(source, bytes):
        label = name or "upload"
        if len(source) > max_bytes:
            raise ImportFailed(label, [ImportProblem(label, _too_big(len(source), max_bytes))])
        return source, label
    path = Path(source)
    label = name or path.name
    if not path.is_file():
        raise ImportFailed(label, [ImportProblem(label, f"file not found: {path}")])
    size = path.stat().st_size
    if size > max_bytes:
        raise ImportFailed(label, [ImportProblem(label, _too_big(size, max_bytes))])
    return path.read_bytes(), label


def _too_big(size: int, limit: int) -> str:
    return (
        f"file is {size / 1_048_576:.1f} MB, over the {limit / 1_048_576:.1f} MB limit "
        "(split it, or raise the limit with --max-size-mb)"
    )

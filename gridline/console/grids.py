"""The grid hierarchy as the console needs it: names, subtrees and ancestors, read once per request."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from gridline.storage import directory
from gridline.storage.models import Grid


@dataclass
class GridTree:
    """All grids by code, with their children, built from ``Grid.parent_code``."""

    grids: dict[str, Grid] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> GridTree:
        tree = cls()
        for grid in directory.all_grids(session):
            tree.grids[grid.code] = grid
        for grid in tree.grids.values():
            if grid.parent_code:
                tree.children.setdefault(grid.parent_code, []).append(grid.code)
        return tree

    def subtree(self, code: str) -> set[str]:
        """``code`` and every grid below it (empty when the grid is unknown)."""
        if code not in self.grids:
            return set()
        seen: set[str] = set()
        stack = [code]
        while stack:
            current = stack.pop()
            if current in seen:  # a loop in bad data must not hang the console
                continue
            seen.add(current)
            stack.extend(self.children.get(current, []))
        return seen

    def ancestors(self, code: str | None) -> list[str]:
        """``code`` and its parents up to level 1, nearest first."""
        chain: list[str] = []
        while code and code in self.grids and code not in chain:
            chain.append(code)
            code = self.grids[code].parent_code
        return chain

    def at_level(self, code: str | None, level: int) -> str | None:
        """The grid at ``level`` above (or equal to) ``code``."""
        for ancestor in self.ancestors(code):
            if self.grids[ancestor].level == level:
                return ancestor
        return None

    def name(self, code: str | None) -> str:
        if not code:
            return ""
        grid = self.grids.get(code)
        return grid.name if grid else code

    def short_name(self, code: str | None) -> str:
        """The name without its parenthesised boundary description, for dense tables."""
        name = self.name(code)
        for mark in ("（", "("):
            head = name.split(mark, 1)[0].strip()
            if head:
                name = head
        return name

    def label(self, code: str | None) -> str:
        """``name (code)`` for drop-downs and tables."""
        if not code:
            return ""
        return f"{self.name(code)} ({code})" if code in self.grids else code

    def ordered(self, within: set[str] | None = None) -> list[Grid]:
        """Grids depth-first (level 1, its level 2s, their base grids, ...), optionally restricted."""
        out: list[Grid] = []
        roots = [g.code for g in self.grids.values() if not g.parent_code or g.parent_code not in self.grids]

        seen: set[str] = set()

        def walk(code: str) -> None:
            if code in seen:  # bad data with a loop must not hang the console
                return
            seen.add(code)
            if within is None or code in within:
                out.append(self.grids[code])
            for child in sorted(self.children.get(code, [])):
                walk(child)

        for root in sorted(roots):
            walk(root)
        return out

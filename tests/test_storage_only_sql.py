"""SQL lives in ``gridline/storage/`` only (issue 9's storage part, issue 11's "what shows it is done").

Every query is a named function in the store module of its concept, so a reader sees what a piece
of code needs from the database by the store functions it calls. This test walks ``gridline/`` with
``ast`` and fails when a module outside ``gridline/storage/`` builds or runs a statement itself:

- it imports a statement builder (``select``, ``update``, ``delete``, ``insert``, ``text``, ``func``)
  from ``sqlalchemy`` / ``sqlmodel`` (or uses it through a module alias: ``sa.select``);
- it runs a statement: ``.exec(...)`` / ``.execute(...)`` / ``.scalar(s)(...)`` on anything, or
  ``.query(...)`` on a session.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gridline"
STORAGE = PACKAGE / "storage"

STATEMENT_BUILDERS = frozenset({"select", "update", "delete", "insert", "text", "func"})
# Running a statement, on whatever holds the session (``session``, ``work.session``, a connection).
STATEMENT_CALLS = frozenset({"exec", "execute", "scalar", "scalars"})
# ``.query(`` is also a spatial index's method (shapely's STRtree): only a session's counts.
SESSION_ONLY_CALLS = frozenset({"query"})
SQL_MODULES = ("sqlalchemy", "sqlmodel")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _is_sql_module(name: str | None) -> bool:
    return name is not None and any(name == m or name.startswith(m + ".") for m in SQL_MODULES)


def _receiver_name(node: ast.expr) -> str:
    """The last name of a call's receiver: ``session`` for ``session.exec``, ``db`` for ``self.db.exec``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _receiver_name(node.func)
    return ""


def _looks_like_session(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in ("session", "conn", "db", "engine", "tx")) or lowered in {"s"}


def findings_in(path: Path, root: Path = ROOT) -> list[Finding]:
    """Statement builders imported and session calls made in one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = path.relative_to(root).as_posix()
    found: list[Finding] = []
    sql_aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _is_sql_module(node.module):
            for alias in node.names:
                if alias.name in STATEMENT_BUILDERS:
                    found.append(Finding(name, node.lineno, f"imports {alias.name!r} from {node.module}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _is_sql_module(alias.name):
                    sql_aliases.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in sql_aliases
            and node.attr in STATEMENT_BUILDERS
        ):
            found.append(Finding(name, node.lineno, f"uses {node.value.id}.{node.attr}"))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and (
                node.func.attr in STATEMENT_CALLS
                or (node.func.attr in SESSION_ONLY_CALLS and _looks_like_session(_receiver_name(node.func.value)))
            )
        ):
            receiver = _receiver_name(node.func.value)
            found.append(Finding(name, node.lineno, f"calls {receiver}.{node.func.attr}(...)"))
    return found


def modules_outside_storage() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if STORAGE not in p.parents)


def test_no_sql_outside_storage() -> None:
    findings = [f for path in modules_outside_storage() for f in findings_in(path)]
    assert not findings, (
        "SQL belongs in a named function of the store module of its concept under gridline/storage/ "
        "(e.g. storage.cases.due_by(session, by, statuses=..., limit=...)); found outside it:\n"
        + "\n".join(str(f) for f in sorted(findings, key=lambda f: (f.path, f.line)))
    )


def test_the_check_sees_a_query(tmp_path: Path) -> None:
    """The walker flags each kind of query it is meant to catch (so the test above can fail)."""
    module = tmp_path / "module.py"
    module.write_text(
        "import sqlalchemy as sa\n"
        "from sqlmodel import select\n"
        "from sqlalchemy import func as f\n"
        "def load(session, ids):\n"
        "    session.exec(select(1))\n"
        "    session.execute(sa.text('select 1'))\n"
        "    tree.query(ids)\n"
        "    return self.session.query(ids)\n",
        encoding="utf-8",
    )
    whats = [f.what for f in findings_in(module, tmp_path)]
    assert "imports 'select' from sqlmodel" in whats
    assert "imports 'func' from sqlalchemy" in whats
    assert "uses sa.text" in whats
    assert "calls session.exec(...)" in whats
    assert "calls session.execute(...)" in whats
    assert "calls session.query(...)" in whats
    assert "calls tree.query(...)" not in whats  # a spatial index, not a session

"""docs/architecture.md names the tree as it is: every module, package or file it names in
backticks from the top of the tree (``storage/pg_job_rows.py``, ``core.inbox_writer``,
``routing.actions.act_on_case``, ``tests/core/test_pg_job_rows.py``) exists, and a name after the
module is defined (or imported) there. A rename that forgets the document fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gridline"
DOC = ROOT / "docs" / "architecture.md"
TOP = {path.name.removesuffix(".py") for path in PACKAGE.iterdir() if not path.name.startswith("__")}


def _module(parts: list[str]) -> Path | None:
    """The file of the module ``gridline.<parts>``, if there is one."""
    base = PACKAGE.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _names(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.Assign):
            found |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            found |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return found


def _resolves(reference: str) -> bool:
    if reference.startswith("tests/"):
        return (ROOT / reference).exists()
    parts = [part for part in re.split(r"[./]", reference.removeprefix("gridline/").removesuffix(".py")) if part]
    for cut in range(len(parts), 0, -1):
        if (PACKAGE.joinpath(*parts[:cut])).is_dir() and cut == len(parts):
            return True
        module = _module(parts[:cut])
        if module is not None:
            rest = parts[cut:]
            return not rest or rest[0] in _names(module)
    return False


def _references() -> list[str]:
    tokens = re.findall(r"`([A-Za-z_][\w./]*)`", DOC.read_text(encoding="utf-8"))
    return sorted({t for t in tokens if t.startswith("tests/")
                   or (re.split(r"[./]", t.removeprefix("gridline/"))[0] in TOP and ("." in t or "/" in t))})


def test_every_module_the_architecture_document_names_exists() -> None:
    references = _references()
    assert len(references) > 20  # the walk finds what it is meant to
    missing = [reference for reference in references if not _resolves(reference)]
    assert not missing, f"docs/architecture.md names what the tree no longer has: {missing}"

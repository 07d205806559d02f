"""The layers the imports keep (docs/architecture.md): a module imports only its own layer's
packages and the layers below it, and no two packages import each other.

Read from the source with ``ast`` — imports inside functions and under ``TYPE_CHECKING`` count too,
because an import hidden in a function is still an arrow in the design.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "gridline"

# Bottom → top. A package may import packages of its own layer or of any layer below.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"clock", "settings", "i18n", "domain"}),  # ground floor: vocabulary, catalogue, config
    frozenset({"storage"}),  # tables, sessions, one store per concept, the job queue
    frozenset({"nlu"}),  # classification
    frozenset({"kernel"}),  # unit of work, services' types, messages, notifier port, outbox
    frozenset({"edge"}),  # input hygiene: text cleaning, body and rate limits, log redaction, photos
    frozenset({"routing"}),  # grids, duty, cases, pages, escalation, follow-through
    frozenset({"core"}),  # the resident conversation
    frozenset({"engine"}),  # time-driven work: jobs, reconciler, declared modules, retention
    frozenset({"bots", "console", "api", "importers"}),  # channels, screens, import formats
    frozenset({"composition", "app", "demo", "commands", "cli", "logging_setup", "__main__"}),  # wiring
)
LAYER_OF = {package: level for level, packages in enumerate(LAYERS) for package in packages}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "gridline" and len(parts) > 1 else None


def _imports() -> list[tuple[str, int, str, str]]:
    """(file, line, importing package, imported package) for every import of a Gridline package."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        source = relative.parts[0].removesuffix(".py") if relative.parts else ""
        if source == "__init__":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
                if node.module == "gridline":
                    targets = [f"gridline.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                package = _package(target)
                if package and package != source:
                    found.append((f"gridline/{relative}", node.lineno, source, package))
    return found


def test_every_package_has_a_layer() -> None:
    packages = {path.relative_to(ROOT).parts[0].removesuffix(".py") for path in ROOT.iterdir()}
    packages -= {"__init__", "__pycache__", "py.typed"}
    assert packages <= set(LAYER_OF), f"place these in LAYERS: {sorted(packages - set(LAYER_OF))}"


def test_imports_never_go_up_a_layer() -> None:
    upward = [
        f"{file}:{line}: {source} (layer {LAYER_OF[source]}) imports {target} (layer {LAYER_OF[target]})"
        for file, line, source, target in _imports()
        if source in LAYER_OF and target in LAYER_OF and LAYER_OF[target] > LAYER_OF[source]
    ]
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)


def test_no_two_packages_import_each_other() -> None:
    arrows: dict[str, set[str]] = defaultdict(set)
    for _, _, source, target in _imports():
        arrows[source].add(target)
    circles = sorted({tuple(sorted((a, b))) for a in arrows for b in arrows[a] if a in arrows.get(b, set())})
    assert not circles, f"packages that import each other: {circles}"


def _documented_layers() -> dict[int, set[str]]:
    """The packages of each layer as the diagram in docs/architecture.md draws them."""
    doc = (ROOT.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    layers: dict[int, set[str]] = {}
    for line in doc.splitlines():
        row = re.match(r"^ │ (\d+)\s+(.*?)\s*│$", line)
        if row is None:
            continue
        names = re.split(r"\s{2,}", row.group(2).strip())[0]  # the packages, then what the layer is for
        names = re.sub(r"\([^)]*\)", "", names)
        layers[int(row.group(1))] = {name.strip().strip("/") for name in names.split("·")}
    return layers


def test_the_architecture_document_draws_these_layers() -> None:
    """docs/architecture.md's diagram names each package in the layer this test holds it to."""
    existing = {path.relative_to(ROOT).parts[0].removesuffix(".py") for path in ROOT.iterdir()}
    documented = _documented_layers()
    assert sorted(documented) == list(range(len(LAYERS)))
    for level, packages in enumerate(LAYERS):
        assert documented[level] == packages & existing, f"layer {level}"

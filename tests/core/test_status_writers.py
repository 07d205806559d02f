"""Every status is written by its lifecycle's one writer.

A row's ``status`` changes only through ``Lifecycle.move`` (called by the aggregate's
``transition()``), or through a conditional UPDATE whose WHERE clause comes from
``Lifecycle.guard`` — so a table in ``gridline.domain.lifecycle`` is the state machine, not its
documentation. Read from the source with ``ast``; the behaviour of ``move`` is tested below.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from gridline.domain.lifecycle import (
    CASE,
    INBOUND,
    MESSAGE,
    PAGE,
    STEP,
    CaseStatus,
    ForbiddenTransition,
    Lifecycle,
    MessageStatus,
    PageStatus,
    StepStatus,
)

ROOT = Path(__file__).resolve().parents[2] / "gridline"
# Functions allowed to assign ``.status``: the generic writer and each aggregate's own transition().
WRITERS = {"move", "transition", "_transition"}
T0 = datetime(2026, 1, 1, tzinfo=UTC)  # an arbitrary instant: nothing here reads a clock


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _status_targets(node: ast.AST) -> list[ast.Attribute]:
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    flat: list[ast.expr] = []
    for target in targets:
        flat.extend(target.elts if isinstance(target, ast.Tuple) else [target])
    return [t for t in flat if isinstance(t, ast.Attribute) and t.attr == "status"]


def _innermost(functions: list[ast.FunctionDef | ast.AsyncFunctionDef], node: ast.AST) -> str | None:
    line = getattr(node, "lineno", 0)
    around = [f for f in functions if f.lineno <= line <= (f.end_lineno or f.lineno)]
    return max(around, key=lambda f: f.lineno).name if around else None


def _writes() -> tuple[list[str], list[str]]:
    assignments, updates = [], []
    for path in sorted(ROOT.rglob("*.py")):
        if "storage/models" in path.as_posix() or "migrations" in path.as_posix():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = _functions(tree)
        where = path.relative_to(ROOT.parent)
        for node in ast.walk(tree):
            for target in _status_targets(node):
                if _innermost(functions, node) not in WRITERS:
                    assignments.append(f"{where}:{target.lineno}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "values"
                and any(k.arg == "status" for k in node.keywords)
            ):
                # The function that builds the UPDATE, or, for a statement prebuilt once at import
                # time (``_CLAIM = update(...)...``), the module-level statement that builds it.
                scope: ast.AST | None = next(
                    (f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)), None
                ) or next(
                    (s for s in tree.body if s.lineno <= node.lineno <= (s.end_lineno or s.lineno)), None  # type: ignore[attr-defined]
                )
                guarded = scope is not None and any(
                    isinstance(n, ast.Attribute) and n.attr in ("guard", "sources") for n in ast.walk(scope)
                )
                if not guarded:
                    updates.append(f"{where}:{node.lineno}")
    return assignments, updates


def test_no_code_assigns_a_status_outside_a_transition() -> None:
    assignments, _ = _writes()
    assert not assignments, "status written around its lifecycle (use LIFECYCLE.move / transition()):\n" + "\n".join(
        assignments
    )


def test_every_conditional_update_of_a_status_is_guarded_by_its_table() -> None:
    _, updates = _writes()
    assert not updates, "UPDATE … SET status without LIFECYCLE.guard / .sources:\n" + "\n".join(updates)


@pytest.mark.parametrize("lifecycle", [CASE, PAGE, STEP, MESSAGE, INBOUND], ids=lambda lc: lc.name)
def test_every_status_has_a_row_in_its_table(lifecycle: Lifecycle) -> None:  # type: ignore[type-arg]
    assert set(lifecycle.table) == set(lifecycle.statuses)
    for current, targets in lifecycle.table.items():
        for wanted in lifecycle.statuses:
            assert lifecycle.allows(current, wanted) is (wanted in targets)


def _case(status: CaseStatus) -> SimpleNamespace:
    return SimpleNamespace(status=status.value, acknowledged_at=None, resolved_at=None, closed_at=None, updated_at=None)


def test_moving_a_case_stamps_its_first_time_there_and_every_update() -> None:
    case = _case(CaseStatus.PAGED)
    CASE.move(case, CaseStatus.ACKNOWLEDGED, T0)
    assert (case.status, case.acknowledged_at, case.updated_at) == ("acknowledged", T0, T0)
    later = T0 + timedelta(minutes=5)
    CASE.move(case, CaseStatus.ACKNOWLEDGED, later)  # staying is not a transition
    assert (case.acknowledged_at, case.updated_at) == (T0, later)


def test_a_forbidden_move_changes_nothing() -> None:
    case = _case(CaseStatus.CLOSED)
    with pytest.raises(ForbiddenTransition, match="case cannot go from 'closed' to 'acknowledged'"):
        CASE.move(case, CaseStatus.ACKNOWLEDGED, T0)
    assert (case.status, case.acknowledged_at, case.updated_at) == ("closed", None, None)


def test_a_guard_is_the_current_status_of_an_allowed_claim() -> None:
    assert PAGE.guard(PageStatus.SCHEDULED, PageStatus.SENDING) == "scheduled"
    assert STEP.guard(StepStatus.PENDING, StepStatus.RUNNING) == "pending"
    with pytest.raises(ForbiddenTransition):
        MESSAGE.guard(MessageStatus.CANCELLED, MessageStatus.SENDING)

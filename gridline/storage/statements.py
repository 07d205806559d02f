"""Count the SQL statements an engine runs: the behaviour bound behind "queries per report".

Tests and benchmarks wrap a piece of work in :class:`StatementCounter` to see how many round trips
to the database it costs (a number that does not drift with the machine's speed, unlike timings).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


class StatementCounter:
    """``with StatementCounter(engine) as counted: ...`` then ``counted.count`` / ``counted.statements``.

    Every statement sent through the engine's cursors is recorded, from any thread (the database's
    worker threads run the units of work).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def summary(self) -> dict[str, int]:
        """How many statements of each kind (SELECT, INSERT, UPDATE, …), for a failing test's message."""
        kinds: dict[str, int] = {}
        for statement in self.statements:
            word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
            kinds[word] = kinds.get(word, 0) + 1
        return kinds

"""Helpers for the worker tests: real ``gridline worker`` processes on PostgreSQL (with or without Redis).

The test process opens cases; the workers (separate processes, started and killed like in
production) run their escalation steps and page deliveries. What the tests then check is the
database — the truth: every step row done once, one page per person per step.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn

from sqlalchemy import text
from sqlmodel import col, select

from gridline.clock import Clock, SystemClock
from gridline.composition import build_services
from gridline.kernel.services import Services
from gridline.kernel.work import unit_of_work
from gridline.routing.cases import CaseDraft, open_case
from gridline.storage.db import Database
from gridline.storage.models import CaseEvent, EscalationStep, Grid, Page
from tests.conftest import REDIS_URL, ROOT, _pg_admin, _pg_url, base_settings

# A Redis database of its own (state, events; the jobs live in each test's own PostgreSQL database).
# The worker tests flush this database; it follows GRIDLINE_TEST_REDIS_URL so that two test runs
# on one machine, each with its own Redis database, never flush each other's.
WORKERS_REDIS_URL = os.environ.get("GRIDLINE_TEST_WORKERS_REDIS_URL", REDIS_URL)


@dataclass(frozen=True)
class ShortPolicy:
    """An escalation policy with waits of about a second, so a whole escalation fits in a test."""

    notify: tuple[str, ...] = ("on_duty_leader", "backup", "level2_contact", "level1_contact")
    wait_minutes: float = 0.02
    repeat: int = 1

    def settings(self) -> dict[str, Any]:
        return {"steps": [{"notify": [n], "wait_minutes": self.wait_minutes} for n in self.notify],
                "repeat": self.repeat}

    def positions(self) -> set[tuple[int, int]]:
        """Every (round, step_index) a case that nobody acknowledges goes through."""
        return {(r, s) for r in range(self.repeat + 1) for s in range(len(self.notify))}


def worker_config(
    policy: ShortPolicy, *, lease_seconds: float = 60.0, reconcile_seconds: float = 0.5, **jobs: Any
) -> dict[str, Any]:
    """Settings shared by the test process and its workers (the policy is snapshotted per case)."""
    return {
        "timezone": "Asia/Shanghai",
        "nlu": {"engine": "embedded", "model_dir": str(ROOT / "var" / "models"),
                "training_data": str(ROOT / "config" / "nlu" / "train.yml")},
        "cases": {"escalation": {"normal": policy.settings()}},
        # Heartbeats every second: a killed worker's jobs are recovered within seconds.
        "jobs": {"reconcile_seconds": reconcile_seconds, "lease_seconds": lease_seconds, "poll_seconds": 0.2,
                 "queue_poll_seconds": 0.1, "heartbeat_seconds": 1.0, "reconcile_grace_seconds": 2.0, **jobs},
        "server": {"log_level": "INFO"},
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def write_toml(path: Path, config: dict[str, Any]) -> Path:
    """A minimal TOML writer for ``worker_config`` (top-level scalars, then one table per section)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in config.items() if not isinstance(v, dict)]
    for section, values in config.items():
        if isinstance(values, dict):
            lines.append(f"[{section}]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# Every staff member's only contact method: ``web`` needs no provider; ``sms`` goes to Twilio.
CONTACTS = {
    "web": "SELECT id, 'web', '', '', 0, false FROM staff",
    "sms": "SELECT id, 'sms', '+861390' || lpad(id::text, 7, '0'), '', 0, false FROM staff",
}


@contextmanager
def demo_database(template: str, contacts: str = "web") -> Iterator[str]:
    """A fresh PostgreSQL database from the demo template, every staff member reachable on one channel.

    The worker installs every channel package; the web sandbox's notifier is the one that needs no
    provider, so pages are handed to it and nothing falls back to a channel without a server.
    """
    name = f"gridline_w_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = _pg_url(name)
    db = Database(url)
    with db.session() as session:
        session.execute(text("DELETE FROM contact_methods"))
        session.execute(text(
            "INSERT INTO contact_methods (staff_id, channel, target, bot_name, position, unreachable) "
            + CONTACTS[contacts]
        ))
    db.dispose()
    try:
        yield url
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis(url: str = WORKERS_REDIS_URL) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


@dataclass
class WorkerProcess:
    """One ``gridline worker`` process, its output going to a log file for the failure message."""

    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes] = field(repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no finally block, whatever it was doing is cut off."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float) -> float:
        """SIGTERM, then wait up to ``timeout`` for the exit; returns the seconds it took."""
        started = time.monotonic()
        self.process.terminate()
        self.process.wait(timeout=timeout)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.log_file.closed:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log_file.close()

    def log_tail(self, lines: int = 40) -> str:
        self.log_file.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def services_for(
    database_url: str, config: dict[str, Any], *, redis_url: str = "", clock: Clock | None = None
) -> Services:
    """The test process's own services (PostgreSQL; Redis at ``redis_url``, none by default): it
    opens cases; only the workers run jobs."""
    settings = base_settings(database={"url": database_url}, redis={"url": redis_url},
                             **{k: v for k, v in config.items() if k != "timezone"})
    return build_services(settings, clock or SystemClock())


def start_worker(config_path: Path, database_url: str, log_path: Path, *, redis: bool = True) -> WorkerProcess:
    """Start ``gridline worker`` as production does: settings from a TOML file and the environment."""
    script = Path(sys.executable).with_name("gridline")
    command = [str(script), "worker"] if script.exists() else [
        sys.executable, "-c", "from gridline.cli import main; main()", "worker"]
    env = {**os.environ, "GRIDLINE_CONFIG": str(config_path), "GRIDLINE_DATABASE__URL": database_url,
           "GRIDLINE_REDIS__URL": WORKERS_REDIS_URL if redis else "", "PYTHONUNBUFFERED": "1"}
    log_file = log_path.open("ab")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    return WorkerProcess(process, log_path, log_file)


async def wait_for(condition: Callable[[], bool], timeout: float, what: str, workers: list[WorkerProcess]) -> None:
    """``wait_until`` that keeps this process's event loop running (a fake provider server lives on it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        _fail_if_one_exited(workers, what)
        await asyncio.sleep(0.2)
    _timed_out(timeout, what, workers)


def count_pages(db: Database, *statuses: str) -> int:
    with db.session() as session:
        return len(session.exec(select(Page.id).where(col(Page.status).in_(statuses))).all())


def wait_until(condition: Callable[[], bool], timeout: float, what: str, workers: list[WorkerProcess]) -> None:
    """Wait (blocking) until ``condition`` holds; fail at once if a worker exits, or after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        _fail_if_one_exited(workers, what)
        time.sleep(0.2)
    _timed_out(timeout, what, workers)


def _fail_if_one_exited(workers: list[WorkerProcess], what: str) -> None:
    for worker in workers:
        if worker.process.poll() is not None:
            raise AssertionError(f"worker {worker.pid} exited ({worker.process.returncode}) while waiting "
                                 f"for {what}:\n{worker.log_tail()}")


def _timed_out(timeout: float, what: str, workers: list[WorkerProcess]) -> NoReturn:
    logs = "\n".join(f"--- worker {w.pid}\n{w.log_tail()}" for w in workers)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")


def grid_codes(services: Services) -> list[str]:
    """Base grids (level 3) of the demo city: each has a leader and a chain above it."""
    with services.db.session() as session:
        return list(session.exec(select(Grid.code).where(Grid.level == 3).order_by(col(Grid.code))))


async def open_cases(services: Services, count: int, *, batch: int = 50) -> list[int]:
    """Open ``count`` normal cases spread over the base grids; their first steps are due at once."""
    grids = grid_codes(services)
    ids: list[int] = []
    while len(ids) < count:
        async with unit_of_work(services) as work:
            for _ in range(min(batch, count - len(ids))):
                grid = grids[len(ids) % len(grids)]
                draft = CaseDraft(category="road_facility", priority="normal", grid_code=grid,
                                  summary=f"路灯不亮 #{len(ids) + 1}", channel="sms", resident_id=None)
                ids.append(open_case(work, services.settings, draft).id or 0)
    return ids


def count_steps(db: Database, status: str) -> int:
    with db.session() as session:
        return len(session.exec(select(EscalationStep.id).where(EscalationStep.status == status)).all())


def escalation_finished(db: Database, case_count: int) -> bool:
    """Every case has gone through its whole policy and no delivery is still in flight."""
    with db.session() as session:
        exhausted = session.exec(select(CaseEvent.id).where(CaseEvent.kind == "escalation_exhausted")).all()
        in_flight = session.exec(select(Page.id).where(col(Page.status).in_(["scheduled", "sending"]))).all()
    return len(exhausted) >= case_count and not in_flight


@dataclass
class Ledger:
    """What the database says happened, arranged for the exactly-once assertions."""

    steps: list[EscalationStep]
    pages: list[Page]
    events: list[CaseEvent]

    @classmethod
    def read(cls, db: Database) -> Ledger:
        with db.session() as session:
            return cls(
                steps=list(session.exec(select(EscalationStep))),
                pages=list(session.exec(select(Page))),
                events=list(session.exec(select(CaseEvent))),
            )

    def steps_not_done(self) -> list[tuple[int, int, int, str]]:
        return [(s.case_id, s.round, s.step_index, s.status) for s in self.steps if s.status != "done"]

    def positions_by_case(self) -> dict[int, set[tuple[int, int]]]:
        found: dict[int, set[tuple[int, int]]] = {}
        for step in self.steps:
            found.setdefault(step.case_id, set()).add((step.round, step.step_index))
        return found

    def step_runs(self) -> Counter[tuple[int, int, int]]:
        """How many times each (case, round, step) was run, from the timeline each run writes."""
        return Counter(
            (e.case_id, int(e.data["round"]), int(e.data["step"]))
            for e in self.events if e.kind in ("paged", "escalated")
        )

    def exhausted(self) -> Counter[int]:
        return Counter(e.case_id for e in self.events if e.kind == "escalation_exhausted")

    def duplicate_pages(self) -> dict[tuple[int, int, int, int, int | None], int]:
        """Pages sent twice: more than one per (case, round, step, staff, contact method)."""
        counts = Counter((p.case_id, p.round, p.step_index, p.staff_id, p.contact_method_id) for p in self.pages)
        return {key: n for key, n in counts.items() if n > 1}

    def duplicate_pages_per_person(self) -> dict[tuple[int, int, int, int], int]:
        """More than one page per (case, round, step, staff) — no fallback happens with web-only contacts."""
        counts = Counter((p.case_id, p.round, p.step_index, p.staff_id) for p in self.pages)
        return {key: n for key, n in counts.items() if n > 1}

    def pages_missing_or_extra(self) -> tuple[set[int], set[int]]:
        """Pages each step's timeline entry says it created vs the Page rows that exist."""
        promised = {
            int(person["page_id"])
            for e in self.events if e.kind in ("paged", "escalated")
            for person in e.data.get("people", []) if person.get("page_id") is not None
        }
        stored = {p.id or 0 for p in self.pages}
        return promised - stored, stored - promised

    def pages_by_status(self) -> Counter[str]:
        return Counter(p.status for p in self.pages)


def jobs_in_progress(db: Database) -> list[str]:
    """Jobs a worker has taken and not finished (a worker SIGKILLed now leaves these behind)."""
    with db.session() as session:
        rows = session.execute(text("SELECT queueing_lock FROM procrastinate_jobs WHERE status = 'doing'")).all()
    return [str(row[0]) for row in rows]


def lose_the_queue(db: Database) -> int:
    """Delete every job from PostgreSQL's job table: only the rows (the truth) are left."""
    with db.session() as session:
        return int(session.execute(text("DELETE FROM procrastinate_jobs")).rowcount)  # type: ignore[attr-defined]


def assert_every_step_happened_exactly_once(ledger: Ledger, case_ids: list[int], policy: ShortPolicy) -> None:
    assert ledger.steps_not_done() == [], "every due step must have run"
    positions = ledger.positions_by_case()
    incomplete = {c: sorted(policy.positions() - positions.get(c, set())) for c in case_ids
                  if positions.get(c) != policy.positions()}
    assert incomplete == {}, "each case goes through every step of its policy (none lost)"
    twice = {key: n for key, n in ledger.step_runs().items() if n != 1}
    assert twice == {}, "each (case, round, step) writes its timeline entry exactly once"
    assert len(ledger.step_runs()) == len(case_ids) * len(policy.positions())
    assert set(ledger.exhausted().values()) == {1} and len(ledger.exhausted()) == len(case_ids)
    assert ledger.duplicate_pages() == {}, "no page per (case, round, step, staff, contact method) twice"
    assert ledger.duplicate_pages_per_person() == {}, "with one contact method each, one page per person per step"
    missing, extra = ledger.pages_missing_or_extra()
    assert (missing, extra) == (set(), set()), "the pages each step recorded are exactly the Page rows"
    assert ledger.pages, "people were paged"
    assert not {"scheduled", "sending"} & set(ledger.pages_by_status()), "every page was handed over"

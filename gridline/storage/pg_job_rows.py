"""procrastinate's rows as Gridline writes and reads them: every statement on ``procrastinate_jobs``
and ``procrastinate_workers`` that is not procrastinate's own (``storage.pg_jobs`` runs the queue).

A unit of work inserts its jobs itself, in its own transaction, in one statement; ``queueing_lock``
is Gridline's job key, so a row has at most one waiting job however often it is queued.

Why not procrastinate's ``defer``: it runs on procrastinate's own connection (its own transaction),
and its SQL function ``procrastinate_defer_jobs_v1`` has no ``ON CONFLICT``; a job must commit or
vanish with the row it is about, and a key queued again must keep one waiting job. So Gridline writes
the same columns that function writes, here and nowhere else: :func:`insert` (a unit of work's jobs)
and :func:`job_per_row` (a job for each row another statement inserts: the webhooks' inbox,
``storage.inbox.store_once_queued``). ``tests/core/test_pg_job_rows.py`` holds both against the
installed procrastinate: the columns its defer function writes, and a row identical to one its
``defer_async`` writes, fetched and run by its worker."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlmodel import Session

from gridline.storage.jobs import Job
from gridline.storage.prepared import Prepared

QUEUE = "gridline"
# ``run_due`` (tests, benchmarks) moves the jobs due at the injected clock's now to this queue and
# runs only it, so a fake clock decides what is due rather than PostgreSQL's ``now()``.
DUE_NOW_QUEUE = "gridline-due-now"

# One waiting job per key: a second insert keeps the earlier due time (NULL is "now"). Run as a
# ``storage.prepared.Prepared`` statement on the unit of work's connection (compiled once; no ORM
# execute; still one statement the engine's events see), one statement for all of a unit of work's
# jobs (the rows deduplicated by key first: one statement cannot insert a key twice).
_COLUMNS = "(queue_name, task_name, priority, queueing_lock, args, scheduled_at)"
_ON_CONFLICT = (
    " ON CONFLICT (queueing_lock) WHERE status = 'todo'"
    " DO UPDATE SET scheduled_at = EXCLUDED.scheduled_at"
    " WHERE procrastinate_jobs.scheduled_at IS NOT NULL"
    " AND (EXCLUDED.scheduled_at IS NULL OR EXCLUDED.scheduled_at < procrastinate_jobs.scheduled_at)"
)
# The waiting copies of jobs that ran in the task that queued them (``kernel.work.RUN_HERE``) leave
# the queue in the same statement: a data-modifying CTE before the INSERT (the two never share a key:
# ``insert`` sends them apart when they would).
_UNSTAGE_SQL = ("DELETE FROM procrastinate_jobs WHERE queueing_lock = ANY(:unstage) AND status = 'todo'"
                " AND queue_name = ANY(:queues)")
_UNSTAGE_CTE = f"WITH unstaged AS ({_UNSTAGE_SQL}) "
_UNSTAGE = Prepared(text(_UNSTAGE_SQL))
_QUEUES = [QUEUE, DUE_NOW_QUEUE]

_insert_sql: dict[tuple[int, bool], Prepared] = {}

# Workers take the job of highest priority first (then the oldest): the jobs nearest to a page
# first, so under a backlog of stored messages a report whose case is open is paged (and answered)
# next, instead of after every message stored before its case's step was queued.
PRIORITY = {"deliver_page": 30, "update_page": 30, "run_escalation_step": 20, "deliver_message": 10,
            "process_inbound": 0}


def insert(session: Session, jobs: list[Job], unstage: Collection[str] = ()) -> None:
    """Insert ``jobs`` (one per key) in the session's transaction and delete the waiting copies of
    the keys ``unstage``, in one statement when no key is in both."""
    keys = list(unstage)
    jobs = _one_per_key(jobs)
    if keys and not {job[1] for job in jobs}.isdisjoint(keys):
        # A key deleted and inserted again: one statement cannot do both to the same row.
        delete_waiting(session, keys)
        keys = []
    if jobs:
        params = _params(jobs)
        if keys:
            params["unstage"], params["queues"] = keys, _QUEUES
        _insert_statement(len(jobs), bool(keys)).run(session, params)
    elif keys:
        delete_waiting(session, keys)


def delete_waiting(session: Session, keys: Collection[str]) -> None:
    """Delete the waiting (not yet fetched) jobs of ``keys`` from Gridline's queues."""
    _UNSTAGE.run(session, {"unstage": list(keys), "queues": _QUEUES})


def move_due(session: Session, now: datetime) -> int:
    """Move the waiting jobs due at ``now`` to :data:`DUE_NOW_QUEUE`; how many."""
    result = session.execute(
        text(
            "UPDATE procrastinate_jobs SET queue_name = :due, scheduled_at = NULL "
            "WHERE status = 'todo' AND queue_name = :queue AND (scheduled_at IS NULL OR scheduled_at <= :now)"
        ),
        {"due": DUE_NOW_QUEUE, "queue": QUEUE, "now": now},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def delete_doing(session: Session, job_id: int) -> None:
    """Delete the job ``job_id`` if a worker still holds it (a stalled job that cannot go back)."""
    session.execute(text("DELETE FROM procrastinate_jobs WHERE id = :id AND status = 'doing'"), {"id": job_id})


def count_waiting(connection: Connection) -> int:
    """Jobs waiting to run."""
    return int(
        connection.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")).scalar() or 0
    )


def count_live_workers(connection: Connection, seconds: float) -> int:
    """Workers whose last heartbeat is less than ``seconds`` old."""
    return int(connection.execute(text(
        "SELECT count(*) FROM procrastinate_workers "
        "WHERE last_heartbeat > now() - make_interval(secs => :seconds)"), {"seconds": seconds}
    ).scalar() or 0)


def job_per_row(rows: str, *, key_prefix: str, arg: str) -> str:
    """The SQL of an INSERT (for a data-modifying CTE) of one job per row of the CTE ``rows``: key
    ``<key_prefix>:<id>``, args ``{arg: id}``, due now; the task, queue and priority are the bound
    parameters :func:`job_per_row_params` gives. With :func:`insert`'s rule for a key already waiting.

    It lets one statement insert rows and their jobs: one round trip, atomic without a transaction."""
    assert rows.isidentifier() and key_prefix.isidentifier() and arg.isidentifier()
    return (f"INSERT INTO procrastinate_jobs {_COLUMNS} "
            f"SELECT :job_queue, :job_task, :job_priority, '{key_prefix}:' || {rows}.id, "
            f"jsonb_build_object('{arg}', {rows}.id), NULL FROM {rows}" + _ON_CONFLICT)


def job_per_row_params(task: str, queue: str = QUEUE) -> dict[str, Any]:
    """The parameters of a :func:`job_per_row` statement queuing ``task`` on ``queue``."""
    return {"job_queue": queue, "job_task": task, "job_priority": PRIORITY.get(task, 0)}


def _insert_statement(rows: int, unstaging: bool) -> Prepared:
    """The INSERT of ``rows`` jobs (params ``q0, t0, p0, k0, a0, s0, q1, …``), with the CTE when
    ``unstaging``; built once per shape."""
    found = _insert_sql.get((rows, unstaging))
    if found is None:
        values = ", ".join(f"(:q{i}, :t{i}, :p{i}, :k{i}, CAST(:a{i} AS jsonb), :s{i})" for i in range(rows))
        sql = (_UNSTAGE_CTE if unstaging else "") + f"INSERT INTO procrastinate_jobs {_COLUMNS} VALUES {values}"
        found = _insert_sql[(rows, unstaging)] = Prepared(text(sql + _ON_CONFLICT))
    return found


def _one_per_key(jobs: list[Job]) -> list[Job]:
    """What inserting ``jobs`` one after another leaves: per key the first job's task and arguments,
    due at the earliest of their times (None, "now", is the earliest)."""
    by_key: dict[str, Job] = {}
    for job in jobs:
        _name, key, run_at, _kwargs = job
        first = by_key.get(key)
        if first is None:
            by_key[key] = job
        elif first[2] is not None and (run_at is None or run_at < first[2]):
            by_key[key] = (first[0], key, run_at, first[3])
    return list(by_key.values())


def _params(jobs: list[Job], queue: str = QUEUE) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for i, (name, key, run_at, kwargs) in enumerate(jobs):
        params[f"q{i}"] = queue
        params[f"t{i}"] = name
        params[f"p{i}"] = PRIORITY.get(name, 0)
        params[f"k{i}"] = key
        params[f"a{i}"] = json.dumps(kwargs)
        params[f"s{i}"] = run_at
    return params

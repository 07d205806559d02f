"""Real worker processes on PostgreSQL (+ Redis): a SIGKILLed worker and a lost queue lose no
escalation step and run none twice; two workers racing over 500 cases never page a step twice."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import _redis_available, need_service
from tests.core.worker_support import (
    WORKERS_REDIS_URL,
    Ledger,
    ShortPolicy,
    WorkerProcess,
    assert_every_step_happened_exactly_once,
    count_steps,
    demo_database,
    escalation_finished,
    flush_redis,
    jobs_in_progress,
    lose_the_queue,
    open_cases,
    services_for,
    start_worker,
    wait_until,
    worker_config,
    write_toml,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def redis_for_workers() -> None:
    need_service("Redis", _redis_available(), "start redis-server or set GRIDLINE_TEST_REDIS_URL")
    flush_redis()


async def test_killed_worker_and_flushed_redis_lose_no_step_and_repeat_none(
    postgres_template: str, redis_for_workers: None, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    policy = ShortPolicy(wait_minutes=0.02, repeat=1)  # 4 steps, 1.2 s apart, twice: 8 steps per case
    # A short lease so the deliveries the killed worker had claimed are retried within the test.
    config = worker_config(policy, lease_seconds=3.0)
    config_path = write_toml(tmp_path / "gridline.toml", config)
    with demo_database(postgres_template) as url:
        first = start_worker(config_path, url, tmp_path / "worker-1.log")
        workers.append(first)
        services = services_for(url, config, redis_url=WORKERS_REDIS_URL)
        try:
            case_ids = await open_cases(services, 20, batch=5)
            total = len(case_ids) * len(policy.positions())

            wait_until(lambda: count_steps(services.db, "done") >= 30, 60, "30 steps to run", [first])
            first.kill()
            done_at_kill = count_steps(services.db, "done")
            assert 0 < done_at_kill < total, "the worker was killed mid-way through the escalations"
            flush_redis()
            lose_the_queue(services.db)  # every queued and deferred job is gone; the rows still know
            time.sleep(1.5)  # let steps come due while no worker runs

            second = start_worker(config_path, url, tmp_path / "worker-2.log")
            workers.append(second)
            wait_until(lambda: escalation_finished(services.db, len(case_ids)), 60,
                       "every case's escalation to finish", [second])
            ledger = Ledger.read(services.db)
        finally:
            await services.aclose()
        for worker in workers:
            worker.stop()  # before the database is dropped
    assert_every_step_happened_exactly_once(ledger, case_ids, policy)
    finished_by = {s.claimed_by for s in ledger.steps if s.claimed_by}
    assert len(finished_by) == 2, "both the killed worker and its replacement ran steps"


async def test_killed_worker_without_redis_flush_is_replaced_promptly(
    postgres_template: str, redis_for_workers: None, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """The usual crash: the dead worker's jobs stay "doing" in the queue; they must not wait for it."""
    policy = ShortPolicy(wait_minutes=0.02, repeat=1)
    config = worker_config(policy, lease_seconds=3.0)
    config_path = write_toml(tmp_path / "gridline.toml", config)
    with demo_database(postgres_template) as url:
        first = start_worker(config_path, url, tmp_path / "worker-1.log")
        workers.append(first)
        services = services_for(url, config, redis_url=WORKERS_REDIS_URL)
        try:
            case_ids = await open_cases(services, 20, batch=5)
            wait_until(lambda: count_steps(services.db, "done") >= 20, 60, "20 steps to run", [first])
            victim, orphaned = first, []
            for attempt in range(2, 8):  # kill until a job is cut off mid-run (most kills do that)
                wait_until(lambda: bool(jobs_in_progress(services.db)), 30, "a job in progress", [victim])
                victim.kill()
                orphaned = jobs_in_progress(services.db)
                victim = start_worker(config_path, url, tmp_path / f"worker-{attempt}.log")
                workers.append(victim)
                if orphaned:
                    break
            assert orphaned, "a worker was killed while running a job"
            # The whole policy takes about 10 s; the dead worker's heartbeat stops within 3 s.
            wait_until(lambda: escalation_finished(services.db, len(case_ids)), 60,
                       f"every case's escalation to finish (orphaned in Redis: {orphaned})", [victim])
            ledger = Ledger.read(services.db)
        finally:
            await services.aclose()
        for worker in workers:
            worker.stop()
    assert_every_step_happened_exactly_once(ledger, case_ids, policy)


async def test_two_workers_never_page_a_step_twice(
    postgres_template: str, redis_for_workers: None, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    # One step per case keeps 500 cases (500 steps, 500+ pages) near a minute on a shared machine;
    # the crash test covers chains of deferred steps.
    policy = ShortPolicy(notify=("on_duty_leader",), wait_minutes=0.01, repeat=0)
    config = worker_config(policy)
    config_path = write_toml(tmp_path / "gridline.toml", config)
    with demo_database(postgres_template) as url:
        workers.extend(start_worker(config_path, url, tmp_path / f"worker-{n}.log") for n in (1, 2))
        services = services_for(url, config, redis_url=WORKERS_REDIS_URL)
        try:
            case_ids = await open_cases(services, 500, batch=50)
            wait_until(lambda: escalation_finished(services.db, len(case_ids)), 120,
                       "500 escalations to finish", workers)
            ledger = Ledger.read(services.db)
        finally:
            await services.aclose()
        for worker in workers:
            worker.stop()
    assert_every_step_happened_exactly_once(ledger, case_ids, policy)
    ran_by = {s.claimed_by for s in ledger.steps}
    assert len(ran_by) == 2, "both workers took part"

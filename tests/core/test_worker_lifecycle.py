"""Real ``gridline worker`` processes on PostgreSQL alone (no Redis): work overdue by days runs once
when a worker starts, and SIGTERM under a backlog with the provider down exits within the bound,
leaving the work to the next process; a worker killed during a slow send does not send twice when
the provider can be asked; a worker rides out lost database connections."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from gridline.clock import FakeClock
from gridline.kernel.services import Services
from tests.core.worker_support import (
    Ledger,
    ShortPolicy,
    WorkerProcess,
    assert_every_step_happened_exactly_once,
    count_pages,
    count_steps,
    demo_database,
    escalation_finished,
    open_cases,
    services_for,
    start_worker,
    wait_for,
    worker_config,
    write_toml,
)
from tests.twilio.conftest import ACCOUNT_SID, AUTH_TOKEN, SMS_NUMBER, VOICE_NUMBER
from tests.twilio.fake_twilio import FakeTwilio

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ONE_STEP = ShortPolicy(notify=("on_duty_leader",), wait_minutes=0.01, repeat=0)


async def test_a_step_due_three_days_ago_runs_once_when_a_worker_starts(
    postgres_template: str, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    config = worker_config(ONE_STEP)
    config_path = write_toml(tmp_path / "gridline.toml", config)
    with demo_database(postgres_template) as url:
        # The cases were opened three days ago, while no worker ran: their steps and jobs are that old.
        then = FakeClock(datetime.now(UTC) - timedelta(days=3))
        services = services_for(url, config, clock=then)
        try:
            case_ids = await open_cases(services, 6, batch=6)
            with services.db.session() as session:
                overdue = session.execute(text(
                    "SELECT count(*) FROM escalation_steps WHERE status = 'pending' "
                    "AND due_at < now() - interval '2 days'")).scalar()
                queued = session.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar()
            assert overdue == len(case_ids) and queued == len(case_ids), "each step is overdue and has its job"
            workers.append(start_worker(config_path, url, tmp_path / "worker.log", redis=False))
            await wait_for(lambda: escalation_finished(services.db, len(case_ids)), 60,
                           "the overdue escalations to finish", workers)
            ledger = Ledger.read(services.db)
        finally:
            await services.aclose()
        for worker in workers:
            worker.stop()
    assert_every_step_happened_exactly_once(ledger, case_ids, ONE_STEP)


def _unanswering_provider() -> socket.socket:
    """A provider that is down the worst way: it accepts connections and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    return sock


def twilio_config(base_url: str) -> dict[str, Any]:
    return {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "sms_number": SMS_NUMBER,
            "api_base_url": base_url}


async def test_sigterm_under_backlog_with_the_provider_down_exits_and_the_next_worker_finishes(
    postgres_template: str, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    down = _unanswering_provider()
    base = {**worker_config(ONE_STEP, lease_seconds=3.0), "server": {"log_level": "INFO",
            "public_base_url": "http://127.0.0.1:9"}}
    down_config = write_toml(tmp_path / "down.toml",
                             {**base, "twilio": twilio_config(f"http://127.0.0.1:{down.getsockname()[1]}")})
    fake = await FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sms_number=SMS_NUMBER,
                            voice_number=VOICE_NUMBER).start()
    up_config = write_toml(tmp_path / "up.toml", {**base, "twilio": twilio_config(fake.base_url)})
    try:
        with demo_database(postgres_template, contacts="sms") as url:
            services = services_for(url, base)
            try:
                case_ids = await open_cases(services, 40, batch=20)
                first = start_worker(down_config, url, tmp_path / "worker-1.log", redis=False)
                workers.append(first)
                # Sends hang at the provider while more work waits behind them (pages, or the steps
                # that make them: page deliveries are taken first, so the backlog may be of steps).
                await wait_for(lambda: count_pages(services.db, "sending") >= 5, 60, "sends in flight", workers)
                assert (count_pages(services.db, "scheduled", "sending") + count_steps(services.db, "pending")) > 10
                try:
                    first.terminate(timeout=10)
                except subprocess.TimeoutExpired:
                    pytest.fail(f"SIGTERM: the worker had not exited after 10 s\n{first.log_tail()}")
                assert first.process.returncode == 0, first.log_tail()
                assert fake.messages == [], "the provider was down: nothing was sent yet"
                # Its sends in flight were given back on the way out (marked interrupted), not left
                # claimed until their lease ran out.
                assert count_pages(services.db, "sending") == 0, "the stopped worker released its sends"

                second = start_worker(up_config, url, tmp_path / "worker-2.log", redis=False)
                workers.append(second)
                await wait_for(lambda: escalation_finished(services.db, len(case_ids))
                               and count_pages(services.db, "scheduled", "sending") == 0, 120,
                               "the next worker to send every page", [second])
                ledger = Ledger.read(services.db)
            finally:
                await services.aclose()
            for worker in workers:
                worker.stop()
    finally:
        await fake.close()
        down.close()
    assert_every_step_happened_exactly_once(ledger, case_ids, ONE_STEP)
    assert set(ledger.pages_by_status()) <= {"sent", "delivered"}, ledger.pages_by_status()
    texts = Counter((m.to, m.body) for m in fake.messages)
    assert len(fake.messages) == len(ledger.pages), "one text per page"
    assert [key for key, n in texts.items() if n > 1] == [], "no page texted twice"


def possibly_sent_twice(services: Services) -> int:
    with services.db.session() as session:
        return int(session.execute(text(
            "SELECT count(*) FROM audit_log WHERE action = 'delivery.possibly_sent_twice'")).scalar() or 0)


async def healthz(services: Services) -> dict[str, Any]:
    import httpx

    from gridline.app import create_app

    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gridline") as client:
        return dict((await client.get("/healthz")).json())


async def metric(services: Services, name: str) -> float:
    """A gauge as a Prometheus scrape of ``/metrics`` reads it."""
    import httpx

    from gridline.app import create_app

    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gridline") as client:
        body = (await client.get("/metrics")).text
    values = [line.split()[-1] for line in body.splitlines() if line.startswith(name + " ")]
    assert values, f"{name} is not in /metrics"
    return float(values[0])


@pytest.mark.parametrize("twilio_can_be_asked", [True, False], ids=["twilio-asked", "twilio-cannot-be-asked"])
async def test_a_worker_killed_during_a_slow_send_does_not_send_twice_when_the_provider_can_be_asked(
    twilio_can_be_asked: bool, postgres_template: str, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    fake = await FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sms_number=SMS_NUMBER,
                            voice_number=VOICE_NUMBER).start()
    fake.answer_delay_seconds = 8.0  # Twilio has the text; its answer is slow to come back
    fake.lookups_available = twilio_can_be_asked
    config = {**worker_config(ONE_STEP, lease_seconds=3.0), "twilio": twilio_config(fake.base_url),
              "server": {"log_level": "INFO", "public_base_url": "http://127.0.0.1:9"}}
    config_path = write_toml(tmp_path / "gridline.toml", config)
    try:
        with demo_database(postgres_template, contacts="sms") as url:
            services = services_for(url, config)
            try:
                case_ids = await open_cases(services, 1, batch=1)
                first = start_worker(config_path, url, tmp_path / "worker-1.log", redis=False)
                workers.append(first)
                await wait_for(lambda: len(fake.messages) == 1, 60, "the page's text to reach Twilio", workers)
                first.kill()  # mid-call: the worker never learns that Twilio has the text
                fake.answer_delay_seconds = 0.0
                second = start_worker(config_path, url, tmp_path / "worker-2.log", redis=False)
                workers.append(second)
                await wait_for(lambda: escalation_finished(services.db, len(case_ids))
                               and count_pages(services.db, "scheduled", "sending") == 0, 60,
                               "the next worker to finish the page", [second])
                ledger = Ledger.read(services.db)
                counted = possibly_sent_twice(services)
                gauge = await metric(services, "gridline_sends_possibly_twice")
            finally:
                await services.aclose()
            for worker in workers:
                worker.stop()
    finally:
        await fake.close()
    assert len(ledger.pages) == 1 and ledger.pages[0].status == "sent"
    if twilio_can_be_asked:
        assert len(fake.messages) == 1, "Twilio had the text: it is not sent a second time"
        assert ledger.pages[0].provider_message_id == fake.messages[0].sid
        assert counted == 0 and gauge == 0
    else:
        assert len(fake.messages) == 2, "Gridline could not know, so it sent again"
        assert counted == 1 and gauge == 1, "and it counts the page as possibly sent twice"


def drop_connections(database_url: str) -> int:
    """Cut every connection to the test database but this one (a PostgreSQL restart, a failover)."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


async def test_a_worker_rides_out_lost_database_connections_and_finishes_the_work(
    postgres_template: str, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    policy = ShortPolicy(wait_minutes=0.02, repeat=0)  # 4 steps, 1.2 s apart
    config = worker_config(policy, lease_seconds=3.0)
    config_path = write_toml(tmp_path / "gridline.toml", config)
    with demo_database(postgres_template) as url:
        services = services_for(url, config)
        try:
            case_ids = await open_cases(services, 10, batch=10)
            worker = start_worker(config_path, url, tmp_path / "worker.log", redis=False)
            workers.append(worker)
            await wait_for(lambda: count_steps(services.db, "done") >= 5, 60, "steps to run", workers)
            cut = 0
            for _ in range(3):  # the database goes away three times in a row
                cut += drop_connections(url)
                await asyncio.sleep(1.0)
            assert cut > 0, "the worker's connections were cut"
            assert worker.process.poll() is None, f"the worker exited:\n{worker.log_tail()}"
            await wait_for(lambda: escalation_finished(services.db, len(case_ids)), 90,
                           "every escalation to finish after the outages", workers)
            assert (await healthz(services))["jobs"] == {"workers_alive": 1}, "its heartbeat goes on"
            ledger = Ledger.read(services.db)
        finally:
            await services.aclose()
        for w in workers:
            w.stop()
    assert_every_step_happened_exactly_once(ledger, case_ids, policy)

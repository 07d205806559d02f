"""Real processes through a Redis outage: ``gridline serve`` and ``gridline worker`` on PostgreSQL
with a redis-server of the test's own — unreachable from the start, or killed for 15 s mid-run.

Residents text the SMS hotline (signed by the fake Twilio) and write to the Telegram bot (with the
webhook secret) all along. Every webhook is answered 200 and stored, every resident is answered,
every case's page goes out, nothing is sent twice, and both processes keep running.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from gridline.storage.db import Database
from gridline.storage.models import Case, InboundEvent, Message, Page
from tests.conftest import ROOT, _pg_admin, _pg_url, _postgres_available, need_service
from tests.core.worker_support import write_toml
from tests.outage.support import RedisServer, eventually, free_port
from tests.telegram.fake_bot_api import FakeBotApi, Webhook
from tests.telegram.people import TelegramPerson
from tests.twilio.conftest import ACCOUNT_SID, AUTH_TOKEN, SMS_NUMBER, VOICE_NUMBER
from tests.twilio.fake_twilio import FakeTwilio

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

BOT_TOKEN = "100001:TEST-city-bot"
BOT_SECRET = "webhook-s3cret-for-tests"
OUTAGE_SECONDS = 15.0
# Residents of the demo city (known addresses) and strangers (their reports wait in triage).
RESIDENTS = ["+8617000010001", "+8617000010002", "+8613800000011", "+8613800000012"]
REPORTS = ["楼道灯坏了三天了", "小区门口的路灯不亮了", "家里停水了", "楼上漏水到我家了"]


class Process:
    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self._file = log.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-c", "from gridline.cli import main; main()", *args],
            cwd=ROOT, env=env, stdout=self._file, stderr=subprocess.STDOUT,
        )

    def running(self) -> bool:
        return self.popen.poll() is None

    def tail(self) -> str:
        self._file.flush()
        return f"--- {self.name}\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])

    def stop(self) -> None:
        if self.running():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self._file.close()


class Deployment:
    """serve + worker on one PostgreSQL database, the fake Twilio and Telegram beside them."""

    def __init__(self, tmp_path: Path, database_url: str, redis_url: str) -> None:
        self.tmp_path, self.database_url, self.redis_url = tmp_path, database_url, redis_url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.twilio = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sms_number=SMS_NUMBER,
                                 voice_number=VOICE_NUMBER, gridline_url=self.base_url)
        self.telegram = FakeBotApi()
        self.processes: list[Process] = []
        self.answers: list[int] = []
        self.db = Database(database_url)

    async def start(self) -> None:
        await self.twilio.start()
        await self.telegram.start()
        # 127.0.0.1 is not public, so Gridline registers no webhook: point the fake at it by hand.
        self.telegram.webhooks[BOT_TOKEN] = Webhook(
            url=f"{self.base_url}/webhooks/telegram/city", secret_token=BOT_SECRET, allowed_updates=None)
        self.telegram.webhook_client = httpx.AsyncClient(timeout=30)
        config = write_toml(self.tmp_path / "gridline.toml", {
            "timezone": "Asia/Shanghai",
            "server": {"public_base_url": self.base_url, "log_level": "INFO", "secret_key": "outage-test-secret"},
            "nlu": {"engine": "embedded", "model_dir": str(ROOT / "var" / "models"),
                    "training_data": str(ROOT / "config" / "nlu" / "train.yml")},
            "jobs": {"reconcile_seconds": 1.0, "reconcile_grace_seconds": 2.0, "lease_seconds": 10.0},
            # The strangers' reports go to triage at once instead of waiting 3 minutes for an address
            # nobody here will send: this test is about Redis, and its clock is the real one.
            "cases": {"address_wait_minutes": 0},
            "twilio": {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "sms_number": SMS_NUMBER,
                       "voice_number": VOICE_NUMBER, "api_base_url": self.twilio.base_url},
            "telegram": {"bots": {"city": {"token": BOT_TOKEN, "secret_token": BOT_SECRET,
                                           "api_base_url": self.telegram.url, "framework": "ptb",
                                           "audience": "both"}}},
        })
        env = {**os.environ, "GRIDLINE_CONFIG": str(config), "GRIDLINE_DATABASE__URL": self.database_url,
               "GRIDLINE_REDIS__URL": self.redis_url, "GRIDLINE_REDIS__NAMESPACE": f"o{uuid.uuid4().hex[:8]}",
               "PYTHONUNBUFFERED": "1"}
        serve = Process("serve", ["serve", "--demo", "--port", str(self.port)], env, self.tmp_path / "serve.log")
        self.processes.append(serve)
        await eventually(self._healthz_answers, 120, "gridline serve to come up", self.logs)
        self.processes.append(Process("worker", ["worker"], env, self.tmp_path / "worker.log"))

    async def _healthz_answers(self) -> bool:
        assert all(p.running() for p in self.processes), self.logs()
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                return (await client.get(self.base_url + "/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    async def healthz(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(self.base_url + "/healthz")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.processes)

    async def text(self, number: str, body: str) -> None:
        self.answers.append((await self.twilio.phone(number).text(body)).status_code)

    async def write(self, person: TelegramPerson, body: str) -> None:
        response = await person.says(body)
        assert response is not None
        self.answers.append(response.status_code)

    async def settle(self) -> None:
        await self.twilio.settle()

    async def close(self) -> None:
        for process in self.processes:
            process.stop()
        if self.telegram.webhook_client is not None:
            await self.telegram.webhook_client.aclose()
        await self.telegram.stop()
        await self.twilio.close()
        self.db.dispose()


@pytest.fixture
async def database() -> AsyncIterator[str]:
    need_service("PostgreSQL", _postgres_available(), "start it or set GRIDLINE_TEST_POSTGRES_URL")
    name = f"gridline_outage_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


RESIDENT_PROVIDERS = ("twilio:sms", "telegram:city")  # the webhooks the scenario posts to


def _rows(db: Database, model: Any) -> list[Any]:
    with db.session() as session:
        return list(session.exec(select(model)))


def everything_answered(deploy: Deployment, people: list[TelegramPerson]) -> bool:
    events = _rows(deploy.db, InboundEvent)
    if len(events) < len(deploy.answers) or any(e.status != "processed" for e in events):
        return False
    if any(not deploy.twilio.messages_to(number) for number in RESIDENTS):
        return False
    if any(not person.inbox for person in people):
        return False
    cases = _rows(deploy.db, Case)
    pages = _rows(deploy.db, Page)
    paged = {p.case_id for p in pages if p.status in ("sent", "delivered", "acknowledged")}
    unsettled = [p for p in pages if p.status in ("scheduled", "sending")]
    return bool(cases) and all(c.id in paged for c in cases) and not unsettled


async def run_traffic(deploy: Deployment, people: list[TelegramPerson], rounds: int, pause: float) -> None:
    """Each round: every resident texts, every Telegram user writes, a pause."""
    for n in range(rounds):
        for number, report in zip(RESIDENTS, REPORTS, strict=True):
            await deploy.text(number, f"{report}（第{n + 1}次）")
        for person in people:
            await deploy.write(person, f"你好，第{n + 1}次")
        await deploy.settle()
        await asyncio.sleep(pause)


def assert_nothing_sent_twice(deploy: Deployment, people: list[TelegramPerson]) -> None:
    sent_sids = [m.sid for m in deploy.twilio.messages]
    assert len(sent_sids) == len(set(sent_sids))
    with deploy.db.session() as session:
        recorded = set(session.exec(select(Message.provider_message_id).where(
            Message.direction == "out", Message.channel == "sms"))) | set(session.exec(
            select(Page.provider_message_id).where(Page.channel == "sms")))
    twice = [sid for sid in sent_sids if sid not in recorded]
    assert twice == [], "every text Twilio got is the one send of one message or page row"
    for person in people:
        with deploy.db.session() as session:
            rows = session.execute(text(
                "SELECT count(*) FROM messages m JOIN channel_identities i ON i.id = m.identity_id "
                "WHERE m.direction = 'out' AND m.channel = 'telegram' AND i.external_id = :uid "
                "AND m.status IN ('sent', 'delivered')"), {"uid": str(person.user_id)}).scalar_one()
        assert len(person.inbox) == rows, f"{person.first_name}: one Telegram message per outbox row"


async def outage_scenario(deploy: Deployment, redis: RedisServer | None) -> None:
    people = [TelegramPerson(deploy.telegram, BOT_TOKEN, 7_100_000 + i, f"居民{i}") for i in range(2)]
    await deploy.start()
    if redis is not None:
        await run_traffic(deploy, people, rounds=1, pause=0.5)
        assert (await deploy.healthz())["status"] == "ok"
        redis.kill()
        started = time.monotonic()
        while time.monotonic() - started < OUTAGE_SECONDS:
            await run_traffic(deploy, people, rounds=1, pause=2.0)
        health = await deploy.healthz()
        assert health["status"] == "degraded" and health["degraded"] == ["redis"], health
        redis.start()
        await eventually(_status_is(deploy, "ok"), 30, "serve to find Redis again", deploy.logs)
        await run_traffic(deploy, people, rounds=1, pause=0.5)
    else:
        health = await deploy.healthz()
        assert health["status"] == "degraded" and health["degraded"] == ["redis"], health
        await run_traffic(deploy, people, rounds=3, pause=1.0)

    assert set(deploy.answers) == {200}, f"every webhook answered 200: {deploy.answers}"

    async def settled() -> bool:
        await deploy.settle()
        return everything_answered(deploy, people)

    await eventually(settled, 180, "every event processed, every resident answered, every case paged", deploy.logs)
    # Only what the residents sent: a page by phone to whoever is on duty at this hour of the real
    # week (陈勇 on Friday and Saturday nights) stores the call's own webhooks too.
    sent = [e for e in _rows(deploy.db, InboundEvent) if e.provider in RESIDENT_PROVIDERS]
    assert len(sent) == len(deploy.answers), "every webhook answered is stored"
    assert all(p.running() for p in deploy.processes), deploy.logs()
    assert_nothing_sent_twice(deploy, people)


def _status_is(deploy: Deployment, status: str):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return (await deploy.healthz())["status"] == status

    return check


async def test_redis_unreachable_from_the_start(database: str, dead_redis_url: str, tmp_path: Path) -> None:
    deploy = Deployment(tmp_path, database, dead_redis_url)
    try:
        await outage_scenario(deploy, None)
    finally:
        await deploy.close()


async def test_redis_killed_for_15_seconds_mid_run(database: str, redis_server: RedisServer, tmp_path: Path) -> None:
    deploy = Deployment(tmp_path, database, redis_server.url)
    try:
        await outage_scenario(deploy, redis_server)
    finally:
        await deploy.close()

"""The Twilio test world: Gridline served over real HTTP, the fake Twilio beside it, the demo city.

``world.phone(number)`` is a person's phone; ``await world.settle()`` runs Gridline's due jobs and the
fake's status callbacks until both are quiet. Scripts read like what people do::

    await resident.text("桐柏路199号院停水了")
    await world.settle()
    page = leader.expect_sms("回复")
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from sqlmodel import col, select

from gridline.app import create_app
from gridline.clock import FakeClock
from gridline.kernel.services import Services
from gridline.storage.models import Case, ContactMethod, InboundEvent, Message, Page, Staff
from tests.twilio.fake_twilio import FakePhone, FakeTwilio

# Placeholders, not secrets: the fake accepts whatever it is given.
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-current"
OLD_AUTH_TOKEN = "test-auth-token-previous"
SMS_NUMBER = "+8610690000001"
VOICE_NUMBER = "+8637112345"

# Demo people (config/demo): 李秀英 lives at 桐柏路199号院 (grid ZY01-01-1). Thursday 10:00 the
# leader 龙小燕 is on duty there; Thursday nights the member 姚晓燕, whose first channel is SMS.
LI_XIUYING = "+8617000010001"
ZHAO_DEMING = "+8617000010002"
LONG_XIAOYAN = "+8617000000029"
YAO_XIAOYAN = "+8617000000030"
CHEN_YONG = "+8617000000031"


class QuietServer(uvicorn.Server):
    """uvicorn without signal handlers: it runs inside the test's event loop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@dataclass
class TwilioWorld:
    services: Services
    fake: FakeTwilio
    clock: FakeClock
    base_url: str

    def phone(self, number: str) -> FakePhone:
        return self.fake.phone(number)

    async def settle(self) -> None:
        """Gridline's due jobs, then Twilio's pending callbacks, until nothing more happens."""
        for _ in range(50):
            ran = await self.services.jobs.run_due(self.services.handlers)
            ran += await self.fake.settle()
            if ran == 0:
                return
        raise AssertionError("Gridline and the fake Twilio keep talking: a loop?")

    # --- looking at the database, the way a supervisor would in the console ---------------

    def cases(self) -> list[Case]:
        with self.services.db.session() as session:
            return list(session.exec(select(Case).order_by(col(Case.id))))

    def case(self, ref: str) -> Case:
        with self.services.db.session() as session:
            return session.exec(select(Case).where(Case.ref == ref)).one()

    def pages(self, case_id: int | None = None) -> list[Page]:
        with self.services.db.session() as session:
            query = select(Page).order_by(col(Page.id))
            if case_id is not None:
                query = query.where(Page.case_id == case_id)
            return list(session.exec(query))

    def message_status(self, provider_message_id: str) -> str:
        with self.services.db.session() as session:
            message = session.exec(select(Message).where(Message.provider_message_id == provider_message_id)).one()
            return message.status

    def staff(self, code: str) -> Staff:
        with self.services.db.session() as session:
            return session.exec(select(Staff).where(Staff.code == code)).one()

    def inbox(self) -> list[InboundEvent]:
        with self.services.db.session() as session:
            return list(session.exec(select(InboundEvent).order_by(col(InboundEvent.id))))

    def prefer_channels(self, staff_code: str, *channels: str) -> None:
        """Reorder a staff member's contact methods (what an administrator would do)."""
        with self.services.db.session() as session:
            staff = session.exec(select(Staff).where(Staff.code == staff_code)).one()
            methods = session.exec(select(ContactMethod).where(ContactMethod.staff_id == staff.id)).all()
            order = {c: i for i, c in enumerate(channels)}
            for method in methods:
                method.position = order.get(method.channel, len(order) + method.position)


@pytest.fixture
async def world(make_services: Any, clock: FakeClock, request: pytest.FixtureRequest) -> AsyncIterator[TwilioWorld]:
    """The world on SQLite; ``@pytest.mark.parametrize("world", BACKENDS, indirect=True)`` runs a
    script on PostgreSQL and PostgreSQL + Redis too."""
    fake = await FakeTwilio(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sms_number=SMS_NUMBER, voice_number=VOICE_NUMBER
    ).start()
    sock = free_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    services = await make_services(
        getattr(request, "param", "sqlite"),
        server={"public_base_url": base_url},
        twilio={
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "previous_auth_token": OLD_AUTH_TOKEN,
            "sms_number": SMS_NUMBER,
            "voice_number": VOICE_NUMBER,
            "api_base_url": fake.base_url,
        },
    )
    fake.gridline_url = base_url
    app = create_app(services, run_jobs=False)  # jobs run when the script says (settle)
    server = QuietServer(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield TwilioWorld(services=services, fake=fake, clock=clock, base_url=base_url)
    finally:
        server.should_exit = True
        await task
        await fake.close()
        sock.close()
    assert not fake.errors, f"the fake Twilio saw problems: {fake.errors}"

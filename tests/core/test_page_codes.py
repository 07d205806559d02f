"""Two pages to one phone created at the same moment get different reply codes on PostgreSQL
(``storage.pages.lock_codes_of``): without the lock both transactions read the codes in use before
either commits, both take 1, and a leader's bare "1" could answer the wrong case."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import select

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.routing.pages import create_page
from gridline.storage.models import Case, ContactMethod, Staff
from tests.conftest import BACKENDS
from tests.core.support import record_all_channels

REPORTS = [("+8617000010001", "俺们楼从昨天就没水了"), ("+8617000010002", "小区门口的路灯不亮了")]


@pytest.mark.skipif("postgres" not in BACKENDS, reason="the race is PostgreSQL's (SQLite has one writer)")
async def test_two_pages_to_one_phone_at_once_get_different_codes(make_services, drain) -> None:
    services = await make_services("postgres")
    record_all_channels(services)
    for n, (phone, text) in enumerate(REPORTS):
        await handle_inbound(services, InboundMessage(channel="sms", external_id=phone, text=text,
                                                      provider_message_id=f"SMcode{n}"))
    await drain(services)
    with services.db.session() as session:
        case_ids = [c.id for c in session.exec(select(Case).order_by(Case.id))]
        member = session.exec(select(Staff).where(Staff.code == "MBR-ZY01-01-1")).one()
        method = session.exec(select(ContactMethod).where(ContactMethod.staff_id == member.id,
                                                          ContactMethod.channel == "sms")).one()
        member_id, method_id = member.id, method.id
    assert len(case_ids) == 2
    start = threading.Barrier(2, timeout=10)
    codes: dict[int, int | None] = {}

    def page(case_id: int) -> None:
        with services.db.session() as session:
            start.wait()
            created = create_page(session, case=session.get(Case, case_id), staff=session.get(Staff, member_id),
                                  method=session.get(ContactMethod, method_id), now=services.clock.now(),
                                  step_index=0, round_=0, reason="on_duty_leader")
            time.sleep(0.3)  # the other transaction reads the codes in use meanwhile
            codes[case_id] = created.code
            session.commit()

    threads = [threading.Thread(target=page, args=(case_id,)) for case_id in case_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(c for c in codes.values() if c is not None) == [1, 2], codes

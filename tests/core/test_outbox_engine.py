"""Pages and outbox messages run on one outbox engine (``kernel.outbox_engine``): the same retry
with backoff, the same lookup before resending an interrupted send, and one handler for the
provider's status callbacks — only each kind's policy differs (a page falls back to the person's
next channel; a message marks its identity unreachable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import select

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.kernel.notify import Delivery, MessageNotice, PageNotice
from gridline.kernel.outbox_engine import Claimed
from gridline.kernel.send_claims import INTERRUPTED, POSSIBLY_TWICE
from gridline.kernel.work import Work
from gridline.routing.message_delivery import claim_message
from gridline.routing.provider_status import record_provider_status
from gridline.storage.models import AuditLog, Case, Message, Page
from gridline.storage.statements import StatementCounter
from tests.core.support import RecordingNotifier, record_all_channels

LI = "+8617000010001"  # 桐柏路199号院 → ZY01-01-1: pages go to 龙小燕 on web first


@dataclass
class ScriptedMessages(RecordingNotifier):
    """Also answers messages from a script, and knows what it already sent (``find_*``)."""

    message_script: list[Delivery] = field(default_factory=list)
    found: list[str] = field(default_factory=list)

    async def send_message(self, notice: MessageNotice) -> Delivery:
        self.messages.append(notice)
        if self.message_script:
            return self.message_script.pop(0)
        return Delivery("sent", provider_message_id=f"{self.channel}-m{notice.message_id}")

    async def find_page(self, notice: PageNotice, since: datetime) -> Delivery | None:
        self.found.append(f"page {notice.page_id}")
        return Delivery("sent", provider_message_id="found-page")

    async def find_message(self, notice: MessageNotice, since: datetime) -> Delivery | None:
        self.found.append(f"message {notice.message_id}")
        return Delivery("sent", provider_message_id="found-message")


def report(services):
    return handle_inbound(services, InboundMessage(channel="sms", external_id=LI, text="小区门口的路灯不亮了"))


def rows(services, model):
    with services.db.session() as session:
        return list(session.exec(select(model).where(model.id > 0).order_by(model.id)))


def outgoing(services) -> list[Message]:
    return [m for m in rows(services, Message) if m.direction == "out" and m.channel == "sms"]


async def test_a_page_and_a_message_are_retried_with_the_same_backoff(services, drain, clock):
    notifiers = record_all_channels(services)
    sms = ScriptedMessages("sms", message_script=[Delivery("retry", retry_after=30, error="429")])
    services.notifiers.register(sms)
    notifiers["web"].script.append(Delivery("retry", retry_after=30, error="429"))
    await report(services)
    await drain(services)
    assert (len(notifiers["web"].pages), len(sms.messages)) == (1, 1)
    page, message = rows(services, Page)[0], outgoing(services)[0]
    assert (page.status, message.status) == ("scheduled", "queued")
    assert page.next_attempt_at == message.next_attempt_at  # one backoff rule
    clock.advance(seconds=29)
    await drain(services)
    assert (len(notifiers["web"].pages), len(sms.messages)) == (1, 1)
    clock.advance(seconds=2)
    await drain(services)
    assert (len(notifiers["web"].pages), len(sms.messages)) == (2, 2)
    page, message = rows(services, Page)[0], outgoing(services)[0]
    assert (page.status, page.attempts, message.status, message.attempts) == ("sent", 2, "sent", 2)


async def test_status_callbacks_for_a_page_and_a_message_land_in_one_handler(services, drain):
    record_all_channels(services)
    await report(services)
    await drain(services)
    page, message = rows(services, Page)[0], outgoing(services)[0]
    assert await record_provider_status(services, message.provider_message_id, "delivered", 3) == "delivered"
    assert await record_provider_status(services, message.provider_message_id, "sent", 2) == "stale"
    assert await record_provider_status(services, page.provider_message_id, "failed", 6, "twilio failed") == "failed"
    await drain(services)
    pages = rows(services, Page)
    assert [(p.channel, p.status) for p in pages] == [("web", "failed"), ("telegram", "sent")]  # the next channel
    assert outgoing(services)[0].status == "delivered"
    assert await record_provider_status(services, "SM-nobody", "delivered", 3) == "unknown message"


async def test_an_interrupted_page_and_message_are_looked_up_before_sending_again(services, drain, clock):
    record_all_channels(services)
    web = ScriptedMessages("web", script=[Delivery("retry", error="timeout")])
    sms = ScriptedMessages("sms", message_script=[Delivery("retry", error="timeout")])
    services.notifiers.register(web)
    services.notifiers.register(sms)
    await report(services)
    await drain(services)
    await _mark_interrupted(services)  # the next attempts were cut off mid-send (a lapsed claim)
    clock.advance(seconds=5)
    await drain(services)
    page, message = rows(services, Page)[0], outgoing(services)[0]
    assert (web.found, sms.found) == ([f"page {page.id}"], [f"message {message.id}"])
    assert (len(web.pages), len(sms.messages)) == (1, 1)  # the provider had them: not sent again
    assert (page.status, page.provider_message_id) == ("sent", "found-page")
    assert (message.status, message.provider_message_id) == ("sent", "found-message")
    assert not [a for a in rows(services, AuditLog) if a.action == POSSIBLY_TWICE]


async def _mark_interrupted(services) -> None:
    with services.db.session() as session:
        for row in [*session.exec(select(Page)), *session.exec(select(Message).where(Message.direction == "out"))]:
            row.error = INTERRUPTED
            session.add(row)
        session.commit()


async def test_a_replys_claim_brings_its_identity_and_case_reference_in_one_statement(make_services, backend):
    """The claim of a reply its job sends (here: reported outside a job, so nothing was claimed with
    the row) is one ``UPDATE … RETURNING`` with the identity's columns and the case's reference."""
    services = await make_services(backend)
    record_all_channels(services)
    await report(services)
    [message] = outgoing(services)
    [case] = rows(services, Case)
    assert message.status == "queued"
    with services.db.session() as session, StatementCounter(services.db.engine) as counted:
        claimed = claim_message(Work(session=session, now=services.clock.now()), message.id or 0, services.settings)
        session.commit()
    assert counted.count == 1, counted.statements
    assert isinstance(claimed, Claimed)
    assert (claimed.notice.case_ref, claimed.notice.target, claimed.notice.channel) == (case.ref, LI, "sms")
    assert outgoing(services)[0].status == "sending"

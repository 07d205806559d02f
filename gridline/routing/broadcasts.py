"""Broadcasts (通知): a supervisor's notice to the residents of chosen grids, paced and counted.

A broadcast is drafted (text, optional time window, grids), previewed (how many recipients), then
confirmed: one outbound message per recipient is queued as kind ``broadcast``, paced in its sender's
lane (``storage.pacing``), and delivered like any outbox message (claim → send → record → retry), so
a restart sends nothing twice and misses nobody. Cancelling stops every message not yet claimed.
When the last message has been handed over the broadcast is done.

Recipients: the registered residents of the grids with a reachable channel (Telegram preferred,
else SMS), plus household members on the roster with a phone whose household consented to be
contacted (``consent_checkin``). A resident who texted STOP (退订) is not messaged. Replies go
through the ordinary conversation, so a reply that is a report becomes a case as usual; the
broadcast page counts who wrote back and who reported within ``REPLY_WINDOW`` of the start.

Lifecycle: draft → sending → done, draft → cancelled, sending → cancelled; one :func:`transition`
checks the table, writes the status, stamps the time and writes the audit entry
(``routing.broadcast_states``; its names are importable from here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gridline.domain.lifecycle import ForbiddenTransition
from gridline.i18n.phrases import Phrase
from gridline.i18n.phrases import render as render_phrase
from gridline.kernel.outbox import BulkMessage, message_lane, queue_bulk
from gridline.kernel.work import Work
from gridline.routing.broadcast_states import BROADCAST_TRANSITIONS as BROADCAST_TRANSITIONS
from gridline.routing.broadcast_states import BroadcastStatus, transition
from gridline.settings import Settings
from gridline.storage import audit, broadcasts, pacing
from gridline.storage.models import Broadcast, ChannelIdentity, Message, Resident
from gridline.storage.pacing import MessageKind

MAX_TITLE = 40
MAX_BODY = 500
REPLY_WINDOW = timedelta(hours=48)
SYSTEM = "system"


class BroadcastError(ValueError):
    """Input a broadcast cannot be made of; ``key`` names the catalogue text that says why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Draft:
    title: str
    body: str
    grid_codes: tuple[str, ...]  # base and higher grids, already checked against what the sender may reach
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def check_draft(title: str, body: str, grid_codes: tuple[str, ...], starts_at: datetime | None,
                ends_at: datetime | None) -> Draft:
    title, body = title.strip(), body.strip()
    if not body:
        raise BroadcastError("broadcast.error.empty")
    if len(title) > MAX_TITLE:
        raise BroadcastError("broadcast.error.title_too_long", limit=MAX_TITLE, length=len(title))
    if len(body) > MAX_BODY:
        raise BroadcastError("broadcast.error.too_long", limit=MAX_BODY, length=len(body))
    if not grid_codes:
        raise BroadcastError("broadcast.error.no_grid")
    if starts_at and ends_at and ends_at <= starts_at:
        raise BroadcastError("broadcast.error.window")
    return Draft(title, body, tuple(sorted(set(grid_codes))), starts_at, ends_at)


def create_draft(work: Work, draft: Draft, actor: str, ip: str | None = None) -> Broadcast:
    broadcast = Broadcast(
        title=draft.title, body=draft.body, grid_codes=list(draft.grid_codes), starts_at=draft.starts_at,
        ends_at=draft.ends_at, status=BroadcastStatus.DRAFT.value, created_by=actor, created_at=work.now,
    )
    work.session.add(broadcast)
    work.session.flush()
    broadcast.recipient_count = len(recipients(work, broadcast, create=False))
    audit.record(work.session, at=work.now, actor=actor, action="broadcast.draft", target_kind="broadcast",
                 target_id=broadcast.id or 0,
                 detail={"grids": list(draft.grid_codes), "recipients": broadcast.recipient_count}, ip=ip)
    return broadcast


@dataclass(frozen=True)
class Recipient:
    resident: Resident
    identity: ChannelIdentity | None  # None: a household member's phone without an identity yet (create=False)
    phone: str | None = None


def recipients(work: Work, broadcast: Broadcast, *, create: bool) -> list[Recipient]:
    """Who the broadcast reaches, once each. With ``create``, a consenting household member's phone
    unknown so far becomes a resident with an SMS identity (so their reply joins a conversation)."""
    session = work.session
    grids = broadcast.grid_codes
    residents = [r for r in broadcasts.residents_in(session, grids) if not r.sms_opted_out]
    by_resident: dict[int, list[ChannelIdentity]] = {}
    for identity in broadcasts.identities_of(session, [r.id or 0 for r in residents]):
        by_resident.setdefault(identity.resident_id or 0, []).append(identity)
    out: list[Recipient] = []
    phones: set[str] = set()
    for resident in residents:
        preferred = _preferred(by_resident.get(resident.id or 0, []))
        if preferred is None:
            continue
        if resident.phone:
            phones.add(resident.phone)
        out.append(Recipient(resident, preferred))
    members = [(p, h) for p, h in broadcasts.consenting_members(session, grids) if p.phone and p.phone not in phones]
    wanted = {p.phone for p, _ in members if p.phone}
    on_file = broadcasts.residents_by_phone(session, wanted)
    stopped = {r.phone for r in on_file if r.sms_opted_out}
    known = {r.phone: r for r in sorted(on_file, key=lambda r: r.id or 0, reverse=True) if r.phone}
    texting = {i.external_id: i for i in broadcasts.sms_identities(session, wanted)}
    for person, household in members:
        phone = person.phone or ""
        if phone in phones:
            continue
        phones.add(phone)
        who = known.get(phone)
        if phone in stopped:
            continue
        reach = texting.get(phone)
        if reach is not None and reach.unreachable:
            continue
        if create:
            if who is None:
                who = Resident(name=person.name, phone=phone, grid_code=household.grid_code,
                               address_text=household.address_text, lang=household.lang, created_at=work.now)
                session.add(who)
                session.flush()
            if reach is None:
                reach = ChannelIdentity(channel="sms", external_id=phone, resident_id=who.id, created_at=work.now)
                session.add(reach)
                session.flush()
            elif reach.resident_id is None:
                reach.resident_id = who.id
        out.append(Recipient(who or Resident(name=person.name, phone=phone, created_at=work.now), reach, phone))
    return out


@dataclass(frozen=True)
class Estimate:
    """What confirming a draft would send: recipients per channel, and when the last would go."""

    by_channel: dict[str, int]
    seconds: float


def estimate(work: Work, broadcast: Broadcast, settings: Settings) -> Estimate:
    """Recipients per channel and how long sending them would take at the lanes' rates (after what
    the lanes already have queued)."""
    by_lane: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    for person in recipients(work, broadcast, create=False):
        channel = "sms" if person.identity is None or person.identity.channel == "voice" else person.identity.channel
        by_channel[channel] = by_channel.get(channel, 0) + 1
        lane = message_lane(settings, channel, person.identity)
        by_lane[lane] = by_lane.get(lane, 0) + 1
    seconds = 0.0
    for lane, count in by_lane.items():
        backlog = pacing.next_free(work.session, lane)
        wait = max(0.0, (backlog - work.now).total_seconds()) if backlog else 0.0
        seconds = max(seconds, wait + count / settings.pacing.per_second(pacing.lane_channel(lane)))
    return Estimate(by_channel, seconds)


def _preferred(identities: list[ChannelIdentity]) -> ChannelIdentity | None:
    for channel in ("telegram", "sms", "voice"):
        for identity in identities:
            if identity.channel == channel:
                return identity
    return None


def notice(broadcast: Broadcast, timezone: str) -> Phrase:
    """The notice as a catalogue phrase: the framing (【通知】, its times, how to answer) is the
    catalogue's, the title and the body are what the supervisor wrote (facts, never translated)."""
    tz = ZoneInfo(timezone)
    window: Phrase | str = ""
    if broadcast.starts_at and broadcast.ends_at:
        start, end = _local(broadcast.starts_at, tz), _local(broadcast.ends_at, tz)
        window = Phrase("broadcast.window", {"start": start, "end": end})
    elif broadcast.starts_at:
        window = Phrase("broadcast.window_from", {"start": _local(broadcast.starts_at, tz)})
    title = Phrase("broadcast.title", {"title": broadcast.title}) if broadcast.title else Phrase("broadcast.untitled")
    return Phrase("broadcast.text", {"title": title, "body": broadcast.body, "window": window})


def render(broadcast: Broadcast, lang: str, timezone: str) -> str:
    """The notice as a resident reads it (the console's preview)."""
    return render_phrase(notice(broadcast, timezone), lang)


def _local(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%m-%d %H:%M")


def confirm(work: Work, broadcast_id: int, actor: str, settings: Settings, ip: str | None = None) -> Broadcast:
    """Start sending: one paced message per recipient, in one transaction with the status change."""
    broadcast = broadcasts.get(work.session, broadcast_id)
    if broadcast is None:
        raise BroadcastError("broadcast.error.unknown")
    if broadcast.status != BroadcastStatus.DRAFT:
        raise ForbiddenTransition("broadcast", broadcast.status, BroadcastStatus.SENDING)
    people = [r for r in recipients(work, broadcast, create=True) if r.identity is not None]
    if not people:
        raise BroadcastError("broadcast.error.no_recipients")
    messages = []
    for person in people:
        identity = person.identity
        assert identity is not None
        if identity.channel == "voice":
            identity = _texting_identity(work, identity)
        lang = person.resident.lang
        messages.append(BulkMessage(identity, notice(broadcast, settings.timezone), lang,
                                    identity.resident_id or person.resident.id))
    queue_bulk(work, settings, messages, kind=MessageKind.BROADCAST, broadcast_id=broadcast.id)
    broadcast.recipient_count = len(messages)
    transition(work, broadcast, BroadcastStatus.SENDING, actor, {"recipients": len(messages)}, ip)
    return broadcast


def _texting_identity(work: Work, voice: ChannelIdentity) -> ChannelIdentity:
    found = broadcasts.sms_identities(work.session, [voice.external_id])
    if found:
        return found[0]
    identity = ChannelIdentity(channel="sms", external_id=voice.external_id, resident_id=voice.resident_id,
                               created_at=work.now)
    work.session.add(identity)
    work.session.flush()
    return identity


def cancel(work: Work, broadcast_id: int, actor: str, settings: Settings, ip: str | None = None) -> int:
    """Cancel: nothing not yet claimed is sent (a message being sent right now finishes). Returns
    how many messages were stopped."""
    broadcast = broadcasts.get(work.session, broadcast_id)
    if broadcast is None:
        raise BroadcastError("broadcast.error.unknown")
    stopped, lanes = broadcasts.cancel_queued(work.session, broadcast_id, work.now)
    transition(work, broadcast, BroadcastStatus.CANCELLED, actor, {"stopped": stopped}, ip)
    for lane in sorted(lanes):
        interval = 1.0 / settings.pacing.per_second(pacing.lane_channel(lane))
        pacing.rewind(work.session, lane, interval, work.now)
    return stopped


def after_delivery(work: Work, message: Message) -> None:
    """A broadcast message was sent or failed for good: the broadcast is done when none is left."""
    if message.broadcast_id is None or message.status in ("queued", "sending"):
        return
    broadcast = broadcasts.get(work.session, message.broadcast_id)
    if broadcast is None or broadcast.status != BroadcastStatus.SENDING:
        return
    work.event("broadcasts", {"type": "delivery", "broadcast_id": broadcast.id})
    if broadcasts.unfinished(work.session, broadcast.id or 0) == 0:
        transition(work, broadcast, BroadcastStatus.DONE, SYSTEM)


@dataclass(frozen=True)
class Counts:
    recipients: int
    queued: int
    sent: int
    delivered: int
    failed: int
    cancelled: int
    replied: int
    reported: int


def counts(work: Work, broadcast: Broadcast) -> Counts:
    by_status = broadcasts.status_counts(work.session, broadcast.id or 0)
    replied = reported = 0
    if broadcast.sending_at is not None:
        replied, reported = broadcasts.replies(
            work.session, broadcast.id or 0, broadcast.sending_at, broadcast.sending_at + REPLY_WINDOW
        )
    return Counts(
        recipients=broadcast.recipient_count,
        queued=by_status.get("queued", 0) + by_status.get("sending", 0),
        sent=by_status.get("sent", 0),
        delivered=by_status.get("delivered", 0),
        failed=by_status.get("failed", 0),
        cancelled=by_status.get("cancelled", 0),
        replied=replied,
        reported=reported,
    )

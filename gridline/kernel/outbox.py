"""The outbox: outbound messages stored first, delivered by a job through the channel's notifier.

Bulk messages (``MessageKind`` broadcast, sweep, check-in, visit) are paced: each gets a send time
in its sender's lane (``storage.pacing``), and its delivery job runs then. Replies, notices about a
resident's own case and pages are never paced — they go out at once, however long the bulk queue.
On Telegram the bulk messages to one chat are also a chat interval apart (``space_chats``: Telegram
allows about one message a second per chat), whatever their kind, and wait a chat interval after a
reply or page to that chat (``bulk_wait``, when they are claimed).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlmodel import Session

from gridline.domain.lifecycle import MessageStatus
from gridline.i18n.phrases import Phrase, params_to_json, render
from gridline.kernel.messages import Option, options_to_json
from gridline.kernel.work import Work
from gridline.storage import outbox, pacing, people, reporters
from gridline.storage.models import Case, ChannelIdentity, Message, Resident
from gridline.storage.outbox import IdentityFacts
from gridline.storage.pacing import MessageKind
from gridline.storage.rows import insert_row

if TYPE_CHECKING:
    from gridline.settings import Settings


def queue_message(
    work: Work,
    *,
    channel: str,
    identity: ChannelIdentity | None,
    text: str | None = None,
    lang: str,
    options: tuple[Option, ...] = (),
    phrase: Phrase | None = None,
    case_id: int | None = None,
    resident_id: int | None = None,
    staff_id: int | None = None,
    conversation_id: int | None = None,
    deliver: bool = True,
    kind: str = MessageKind.REPLY,
    settings: Settings | None = None,
    broadcast_id: int | None = None,
    lane: str | None = None,
    hold: bool = False,
    claimed: bool = False,
) -> Message:
    """Store an outbound message; with ``deliver`` it is queued for the channel's notifier (its
    job queued now, or with ``hold`` by the caller later); without, it is recorded as sent.

    A bulk ``kind`` is paced: with ``settings`` its send time is reserved in its lane now (the job
    runs then); without, when its job first claims it (``routing.message_delivery``). ``lane``
    overrides the sender lane (``storage.pacing.lane_of``). A ``phrase`` (a catalogue key and its
    facts) is kept beside its text, which is rendered from it unless given. ``claimed`` (an unpaced
    message to deliver, inside a job): written claimed for sending; the caller makes its send after
    the commit (``routing.message_delivery.claim_new_message``) in place of its job's claim.
    """
    if text is None:
        assert phrase is not None, "a message needs its text or its phrase"
        text = render(phrase, lang)
    if pacing.is_paced(kind) and settings is not None and lane is None:
        lane = message_lane(settings, channel, identity)
    # One Core INSERT, the row as the session's object (``storage.rows``): no model constructor, no flush.
    message = insert_row(work.session, Message, dict(
        conversation_id=conversation_id,
        case_id=case_id,
        direction="out",
        channel=channel,
        sender_kind="system",
        resident_id=resident_id,
        staff_id=staff_id,
        identity_id=identity.id if identity else None,
        text=text,
        text_key=phrase.key if phrase is not None else None,
        text_params=params_to_json(phrase.params) if phrase is not None else None,
        options=options_to_json(options, lang),
        lang=lang,
        created_at=work.now,
        status=(MessageStatus.SENDING if claimed else MessageStatus.QUEUED) if deliver or hold else MessageStatus.SENT,
        claimed_at=work.now if claimed else None,
        kind=str(kind),
        lane=lane,
        broadcast_id=broadcast_id,
    ))
    assert not claimed or (deliver and not pacing.is_paced(kind)), "only an unpaced message to deliver is claimed"
    if deliver:
        if pacing.is_paced(kind) and settings is not None:
            pace(work, settings, [message])
        else:
            work.job("deliver_message", f"msg:{message.id}:0", message_id=message.id)
    return message


def message_lane(settings: Settings, channel: str, identity: ChannelIdentity | None) -> str:
    """The pacing lane of a message to ``identity`` on ``channel``."""
    bot_name = identity.bot_name if identity is not None else ""
    return pacing.lane_of(channel, bot_name, settings.twilio.sms_number, settings.twilio.voice_number)


@dataclass(frozen=True)
class BulkMessage:
    """One message of a bulk send (a broadcast, a sweep): who gets what — a catalogue ``phrase``
    (kept beside its text; each channel renders its own variant)."""

    identity: ChannelIdentity
    phrase: Phrase
    lang: str
    resident_id: int | None = None
    channel: str | None = None  # default: the identity's (a voice identity is texted: pass "sms")
    options: tuple[Option, ...] = ()
    lane: str | None = None  # default: the channel's (``message_lane``); a call leaves from the voice number


class QueuedBulk(NamedTuple):
    message_id: int
    send_at: datetime


def queue_bulk(
    work: Work, settings: Settings, messages: list[BulkMessage], *, kind: str, broadcast_id: int | None = None
) -> list[QueuedBulk]:
    """Store many paced messages in one batch insert, each with its send time in its sender's lane
    (one reservation per lane, in the order given; Telegram chats spaced too), and queue each one's
    job for its time. Returns the message ids and send times in order. Built as plain rows:
    thousands of ORM objects cost seconds."""
    lanes = [m.lane or message_lane(settings, m.channel or m.identity.channel, m.identity) for m in messages]
    by_lane: dict[str, list[int]] = defaultdict(list)
    for index, lane in enumerate(lanes):
        by_lane[lane].append(index)
    times: list[datetime] = [work.now] * len(messages)
    for lane, indexes in by_lane.items():
        interval = 1.0 / settings.pacing.per_second(pacing.lane_channel(lane))
        for index, when in zip(indexes, pacing.reserve(work.session, lane, len(indexes), interval, work.now),
                               strict=True):
            times[index] = when
    times = space_chats(work, settings, [(m.identity, when) for m, when in zip(messages, times, strict=True)])
    rows: list[dict[str, Any]] = [
        {
            "direction": "out", "channel": m.channel or m.identity.channel, "sender_kind": "system",
            "resident_id": m.resident_id, "identity_id": m.identity.id, "text": render(m.phrase, m.lang),
            "text_key": m.phrase.key, "text_params": params_to_json(m.phrase.params),
            "options": options_to_json(m.options, m.lang), "media": [],
            "lang": m.lang, "created_at": work.now, "status": "queued", "status_seq": 0, "attempts": 0,
            "next_attempt_at": when, "text_purged": False, "kind": str(kind), "lane": lane,
            "broadcast_id": broadcast_id,
        }
        for m, lane, when in zip(messages, lanes, times, strict=True)
    ]  # fmt: skip
    ids = outbox.insert_many(work.session, rows)
    for message_id, when in zip(ids, times, strict=True):
        work.job("deliver_message", f"msg:{message_id}:0@{when.timestamp():.3f}", when, message_id=message_id)
    return [QueuedBulk(message_id, when) for message_id, when in zip(ids, times, strict=True)]


def chat_of(identity: ChannelIdentity | IdentityFacts | None) -> tuple[str, str] | None:
    """(bot, chat) of a Telegram identity: the per-chat limit's key."""
    if identity is None or identity.channel != "telegram":
        return None
    return identity.bot_name, identity.chat_id or identity.external_id


def space_chats(
    work: Work, settings: Settings, items: list[tuple[ChannelIdentity | None, datetime]]
) -> list[datetime]:
    """The send times of bulk messages given their sender lane times: a Telegram chat's are a chat
    interval apart (``pacing.telegram_chat_seconds``), in the order given, after that chat's bulk
    messages already queued — of any kind. Other channels' times are kept."""
    times = [when for _, when in items]
    wanted = [(i, pacing.chat_lane(*chat), when) for i, (identity, when) in enumerate(items)
              if (chat := chat_of(identity)) is not None]  # fmt: skip
    spaced = pacing.reserve_each(
        work.session, [(lane, when) for _, lane, when in wanted], settings.pacing.telegram_chat_seconds
    )
    for (index, _, _), when in zip(wanted, spaced, strict=True):
        times[index] = when
    return times


def bulk_wait(
    work: Work, settings: Settings | None, message: Message, identity: ChannelIdentity | None
) -> datetime | None:
    """At the claim of a message to a Telegram chat: a reply, notice (or page: ``direct_send``) is
    recorded as the chat's direct send, and never waits; a bulk message that would leave less than
    a chat interval after one gets a new chat time, returned (the caller re-queues it). Else None."""
    chat = chat_of(identity)
    if chat is None or settings is None:
        return None
    if not pacing.is_paced(message.kind):
        direct_send(work, settings, *chat)
        return None
    busy = pacing.next_free(work.session, pacing.direct_lane(*chat))
    if busy is None or busy <= work.now:
        return None
    [when] = pacing.reserve_each(work.session, [(pacing.chat_lane(*chat), busy)], settings.pacing.telegram_chat_seconds)
    message.next_attempt_at = when
    return when


def direct_send(work: Work, settings: Settings | None, bot_name: str, chat: str) -> None:
    """A reply or page is leaving for a Telegram chat now: its bulk keeps a chat interval away."""
    seconds = settings.pacing.telegram_chat_seconds if settings is not None else 1.0
    pacing.mark_direct(work.session, pacing.direct_lane(bot_name, chat), work.now + timedelta(seconds=seconds))


def pace(
    work: Work, settings: Settings, messages: list[Message], earliest: datetime | None = None, *, jobs: bool = True
) -> None:
    """Give queued bulk ``messages`` send times in their lanes (one reservation per lane, in the
    order given) and, with ``jobs``, queue each one's delivery job for its time (keyed by it, so a
    message given a new time gets a new job). The messages must be flushed."""
    by_lane: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        if message.lane is None:
            identity = work.session.get(ChannelIdentity, message.identity_id) if message.identity_id else None
            message.lane = message_lane(settings, message.channel, identity)
        by_lane[message.lane].append(message)
    for lane, queued in by_lane.items():
        interval = 1.0 / settings.pacing.per_second(pacing.lane_channel(lane))
        times = pacing.reserve(work.session, lane, len(queued), interval, earliest or work.now)
        if pacing.lane_channel(lane) == "telegram":
            identities = [work.session.get(ChannelIdentity, m.identity_id) if m.identity_id else None for m in queued]
            times = space_chats(work, settings, list(zip(identities, times, strict=True)))
        for message, when in zip(queued, times, strict=True):
            message.next_attempt_at = when
            if jobs:
                key = f"msg:{message.id}:{message.attempts}@{when.timestamp():.3f}"
                work.job("deliver_message", key, when, message_id=message.id)


def resident_identity(
    session: Session, resident: Resident, prefer_channel: str | None, now: datetime | None = None
) -> ChannelIdentity | None:
    """Where to reach a resident: the case's channel first, then any other; voice callers get SMS."""
    identities = people.reachable_identities(session, resident.id or 0)
    wanted = "sms" if prefer_channel == "voice" else prefer_channel
    for identity in identities:
        if identity.channel == wanted:
            return identity
    if wanted == "sms" and now is not None:
        # A caller known only by voice: text the number they called from.
        for identity in identities:
            if identity.channel == "voice":
                texting = ChannelIdentity(channel="sms", external_id=identity.external_id,
                                          resident_id=resident.id, created_at=now)
                session.add(texting)
                session.flush()
                return texting
    for identity in identities:
        if identity.channel != "voice":
            return identity
    return None


def tell_resident(
    work: Work, case: Case, key: str, *, options: tuple[Option, ...] = (), ask_callers_by_phone: bool = False,
    reporter: reporters.Reporter | None = None, **params: Any,
) -> Message | None:
    """Queue catalogue message ``key`` about ``case`` to one of its reporters — ``reporter``, by
    default the resident who opened it — on the channel they reported on; None if unreachable.

    Callers (a report that came by voice) are texted, except a question with ``ask_callers_by_phone``:
    it is a call that says it and takes a key (``bots.twilio.voice_ask``) — someone who phoned the
    hotline may not read texts."""
    if reporter is None:
        if case.resident_id is None:
            return None
        reporter = reporters.Reporter(case.resident_id, case.channel)
    resident = work.session.get(Resident, reporter.resident_id)
    if resident is None:
        return None
    identity = None
    if ask_callers_by_phone and options and reporter.channel == "voice":
        identity = next(
            (i for i in people.reachable_identities(work.session, resident.id or 0) if i.channel == "voice"), None
        )
    identity = identity or resident_identity(work.session, resident, reporter.channel, work.now)
    if identity is None:
        return None
    if identity.channel == "sms" and resident.sms_opted_out:
        return None
    return queue_message(
        work,
        channel=identity.channel,
        identity=identity,
        phrase=Phrase(key, {"ref": case.ref, **params}),
        lang=resident.lang,
        options=options,
        case_id=case.id,
        resident_id=resident.id,
        kind=MessageKind.NOTICE,  # news of their own case, not an answer to what they just wrote
    )


def tell_reporters(
    work: Work, case: Case, key: str, *, options: tuple[Option, ...] = (), ask_callers_by_phone: bool = False,
    **params: Any,
) -> list[Message]:
    """:func:`tell_resident` to everyone who reported the case — who opened it and each resident whose
    report of the same problem joined it (``storage.reporters.of_case``) — once each, in their own
    language, on the channel they reported on. Returns the messages queued."""
    sent = (
        tell_resident(work, case, key, options=options, ask_callers_by_phone=ask_callers_by_phone,
                      reporter=reporter, **params)
        for reporter in reporters.of_case(work.session, case)
    )  # fmt: skip
    return [message for message in sent if message is not None]


def reporter_of(work: Work, case: Case, resident_id: int | None) -> reporters.Reporter | None:
    """``resident_id`` as a reporter of ``case`` (with the channel they reported on), or None when
    they did not report it (then :func:`tell_resident` tells the one who opened it)."""
    if resident_id is None:
        return None
    return next((r for r in reporters.of_case(work.session, case) if r.resident_id == resident_id), None)

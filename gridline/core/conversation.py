"""The resident side of every channel: one inbound message in, replies (and maybe a case) out.

Bots translate provider payloads into :class:`InboundMessage`; this module decides what it means
for the conversation — registration, a report, a choice, a rating, a status question — and hands
reports to ``gridline.routing``. It never knows which provider carried the message.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from gridline.core import case_lookup
from gridline.core.answers import find_leader_text, grid_name, registered_text, status_text
from gridline.core.inbound_log import store_inbound
from gridline.core.reports import ReportDecision, decide_report, file_report, reroute_after_registration
from gridline.domain.lifecycle import OPEN_CASE_STATUSES, Priority
from gridline.edge.text import choice_number
from gridline.i18n import DEFAULT_LANGUAGE, normalise_language, other_language, t
from gridline.kernel.messages import InboundMessage, Option, Outcome, Reply
from gridline.kernel.outbox import queue_message
from gridline.kernel.work import Work, in_transaction
from gridline.nlu.priority import assess_priority
from gridline.nlu.types import OUT_OF_SCOPE, NluResult
from gridline.routing import checkins
from gridline.routing.directory import Directory
from gridline.routing.timeline import record_event
from gridline.storage import cases, conversations, people
from gridline.storage.models import Case, Message, Resident
from gridline.storage.people import Sender

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

CHOICE_RE = re.compile(r"^(cat|rate|solved):([A-Z0-9]{6}):([a-z_]+|[1-5])$")


@dataclass
class Turn:
    """What one inbound message amounts to, worked out before the transaction (Redis, the NLU)."""

    msg: InboundMessage
    # The conversation state the turn was prepared for. The truth is on the conversation row; this
    # is Redis's copy (``trusted``) or, when Redis cannot say, nothing, and then the NLU is asked
    # whatever the state, so that the transaction can follow the row without the network.
    state: dict[str, Any] = field(default_factory=dict)
    trusted: bool = True
    nlu: NluResult | None = None
    choice: str | None = None
    # A bare number with no options remembered: the database may know what we offered.
    number: int | None = None
    # Understood in advance in case the address we asked for turns out not to be one.
    fallback_nlu: NluResult | None = None
    rate_limited: str | None = None


@dataclass
class Handled:
    outcome: Outcome
    # The conversation state to keep; ``keep_state`` leaves it alone (duplicates, staff, not answered).
    new_state: dict[str, Any] | None = None
    keep_state: bool = False
    # Set when Redis's copy of the state was not the row's: the turn is prepared again for the row's.
    stale: dict[str, Any] | None = None


async def handle_inbound(services: Services, msg: InboundMessage, *, deliver_replies: bool = True) -> Outcome:
    """Handle one resident message end to end (see the module docstring).

    Three steps so that nothing waits on the network inside the transaction: Redis and the NLU
    before it, one unit of work for everything the database holds (the conversation's state is on
    its row), Redis again after the commit (a copy of the state, so the next message knows
    whether to ask the NLU before its transaction). A copy that turned out stale costs one more turn.
    """
    turn = await _prepare(services, msg)
    handled = await in_transaction(services, _converse, services, turn, deliver_replies)
    if handled.stale is not None:
        turn = await _understand(services, Turn(msg=msg, state=handled.stale, trusted=False, choice=msg.choice))
        handled = await in_transaction(services, _converse, services, turn, deliver_replies)
    # The copy, after the commit (the row is the truth; a stale copy costs a turn, never a question).
    if not handled.keep_state and _copy_is_trusted(services):
        key = _state_key(msg)
        if handled.new_state:
            await services.state.set(key, handled.new_state, services.settings.redis.state_ttl_seconds)
        elif turn.state or not turn.trusted:
            await services.state.delete(key)
    return handled.outcome


def _copy_is_trusted(services: Services) -> bool:
    """Whether the state store's copy of the state is worth reading and writing.

    Redis while it answers; without Redis the in-process store on SQLite (one process). On
    PostgreSQL without Redis, or while Redis is down, each process would keep a copy of its own.
    """
    if services.redis is not None:
        return services.redis.available
    return services.db.is_sqlite


def _state_key(msg: InboundMessage) -> str:
    # One key per channel identity, known before the database is asked who the sender is.
    return f"conv:{msg.channel}:{msg.bot_name}:{msg.external_id}"


async def _prepare(services: Services, msg: InboundMessage) -> Turn:
    """Everything that needs the network: the rate limit and Redis's copy of the state, the NLU."""
    sent_lately = await services.state.hit(f"rate:{msg.channel}:{msg.bot_name}:{msg.external_id}", 60)
    if sent_lately > services.settings.cases.max_messages_per_minute:
        return Turn(msg=msg, rate_limited=f"rate limited: {sent_lately} messages in a minute")
    trusted = _copy_is_trusted(services)
    state: dict[str, Any] = (await services.state.get(_state_key(msg)) or {}) if trusted else {}
    return await _understand(services, Turn(msg=msg, state=state, trusted=trusted, choice=msg.choice))


async def _understand(services: Services, turn: Turn) -> Turn:
    msg, state = turn.msg, turn.state
    text = (msg.text or "").strip()
    # A bare number on SMS/voice answers the options we offered last.
    number = choice_number(text) if turn.choice is None else None
    if number is not None:
        options: list[str] = state.get("options") or []
        if not options or not turn.trusted:
            turn.number = number
        elif 1 <= number <= len(options):
            turn.choice = options[number - 1]
    plain = turn.choice is None and msg.command is None and msg.verified_phone is None and msg.location is None
    awaiting_address = state.get("awaiting") == "address"
    if plain and text and (not awaiting_address or not turn.trusted):
        turn.nlu = await services.nlu.parse(text)
    elif plain and text and _fallback_wanted(state, text):
        turn.fallback_nlu = await services.nlu.parse(text)
    return turn


def _fallback_wanted(state: dict[str, Any], text: str) -> bool:
    """Whether an answer to "what is your address?" is also understood, in case it is not one.

    Always: a resident asked for an address may answer with the problem instead (「电梯里困住人了」
    right after 「在吗」), and that report must be filed, not refused as an unknown address. The
    embedded engine parses in well under a millisecond, and this runs before the transaction.
    """
    return bool(text)


def _follow_the_row(turn: Turn, state: dict[str, Any]) -> None:
    """Adapt an untrusted turn (the NLU was asked regardless) to the state on the row."""
    turn.state = state
    options: list[str] = state.get("options") or []
    if turn.number is not None and options:
        # As a trusted turn would: the options remembered decide, the database's latest are not asked.
        if 1 <= turn.number <= len(options):
            turn.choice, turn.nlu = options[turn.number - 1], None
        turn.number = None
    if state.get("awaiting") == "address" and turn.choice is None:
        text = (turn.msg.text or "").strip()
        turn.fallback_nlu = turn.nlu if _fallback_wanted(state, text) else None
        turn.nlu = None


def _converse(work: Work, services: Services, turn: Turn, deliver_replies: bool) -> Handled:
    """The unit of work of one message: who sent it, what it means for the conversation, the replies."""
    msg = turn.msg
    if msg.provider_message_id and conversations.already_received(work.session, msg.channel, msg.provider_message_id):
        return Handled(Outcome(), keep_state=True)
    sender = people.identify(work.session, msg, work.now)
    if sender.staff is not None:
        # Staff replies (codes, commands) are the channel's business, but they are logged like any message.
        staff_message = store_inbound(work, sender, msg, None)
        return Handled(Outcome(staff_id=sender.staff.id, message_id=staff_message.id), keep_state=True)
    assert sender.resident is not None
    if turn.rate_limited is not None:
        # Kept (nothing a resident sends is dropped), not answered.
        log.warning("not answering %s %s: %s", msg.channel, msg.external_id, turn.rate_limited)
        inbound = store_inbound(work, sender, msg, None)
        inbound.error = turn.rate_limited[:500]
        return Handled(Outcome(resident_id=sender.resident.id, message_id=inbound.id), keep_state=True)
    state = conversation_state(sender, work.now)
    if turn.trusted and state != turn.state:
        # Redis's copy was stale (flushed, or not updated while Redis was away): nothing stored yet.
        return Handled(Outcome(), keep_state=True, stale=state)
    if not turn.trusted:
        _follow_the_row(turn, state)
    _checkin_answer(work, sender, turn)
    if turn.number is not None:
        options = conversations.latest_options(work.session, sender.identity.id or 0)
        if 1 <= turn.number <= len(options):
            turn.choice, turn.nlu, turn.fallback_nlu = options[turn.number - 1], None, None
    outcome = Outcome(resident_id=sender.resident.id)
    inbound = store_inbound(work, sender, msg, turn.nlu)
    outcome.message_id = inbound.id
    replies: list[tuple[str, tuple[Option, ...]]] = []
    new_state = _dispatch(services, work, sender, turn, turn.state, replies, outcome, inbound)
    for text_out, opts in replies:
        stored = queue_message(
            work,
            channel=msg.channel,
            identity=sender.identity,
            text=text_out,
            lang=sender.lang,
            options=opts,
            case_id=outcome.case_id,
            resident_id=sender.resident.id,
            conversation_id=sender.conversation.id,
            deliver=deliver_replies,
        )
        outcome.replies.append(Reply(text=text_out, options=opts, message_id=stored.id))
    if outcome.case_id is not None and inbound.case_id is None:
        inbound.case_id = outcome.case_id
    keep_conversation_state(sender, new_state, work.now, services.settings.redis.state_ttl_seconds)
    return Handled(outcome, new_state)


def _checkin_answer(work: Work, sender: Sender, turn: Turn) -> None:
    """A bare "1"/"2" while a check-in or sweep question waits for this person answers it, whatever
    options an older message offered (the question is the latest thing we asked)."""
    msg = turn.msg
    if msg.choice is not None or msg.command is not None or sender.resident is None:
        return
    number = choice_number((msg.text or "").strip())
    if number is None:
        return
    choice = checkins.waiting_choice(work, sender.identity.id, sender.resident.id, number)
    if choice is not None:
        turn.choice, turn.nlu, turn.fallback_nlu, turn.number = choice, None, None, None


def conversation_state(sender: Sender, now: datetime) -> dict[str, Any]:
    """The conversation's state (a question asked, options offered) unless it has expired."""
    conversation = sender.conversation
    if not conversation.state or conversation.state_expires_at is None or conversation.state_expires_at <= now:
        return {}
    return dict(conversation.state)


def keep_conversation_state(sender: Sender, state: dict[str, Any] | None, now: datetime, ttl_seconds: float) -> None:
    """Store the new state on the conversation row, in the message's transaction (None forgets it)."""
    conversation = sender.conversation
    if state:
        conversation.state = dict(state)
        conversation.state_expires_at = now + timedelta(seconds=ttl_seconds)
    elif conversation.state is not None:
        conversation.state, conversation.state_expires_at = None, None


def _dispatch(
    services: Services,
    work: Work,
    sender: Sender,
    turn: Turn,
    state: dict[str, Any],
    replies: list[tuple[str, tuple[Option, ...]]],
    outcome: Outcome,
    inbound: Message,
) -> dict[str, Any] | None:
    """Decide the conversation's next move; returns the new conversation state."""
    msg, lang = turn.msg, sender.lang
    resident = sender.resident
    assert resident is not None
    directory = Directory.for_services(services)

    if msg.command:
        return _command(services, work, sender, msg, replies)
    if turn.choice:
        return _choice(services, work, sender, turn.choice, replies, outcome)
    if msg.verified_phone:
        people.link_resident_by_phone(work.session, sender, msg.verified_phone)
        resident = sender.resident
        assert resident is not None
        if resident.grid_code:
            replies.append((registered_text(services, work, resident.grid_code, sender.lang), ()))
            return _after_registration(services, work, sender, state, replies, outcome)
        replies.append((t("registration.ask_location", lang), ()))
        return {**state, "awaiting": "address"}
    if msg.location is not None:
        lat, lon = msg.location
        grid_code = directory.locate(lon, lat)
        if grid_code is None:
            replies.append((t("registration.outside", lang), ()))
            return {**state, "awaiting": "address"}
        resident.grid_code, resident.lat, resident.lon = grid_code, lat, lon
        replies.append((registered_text(services, work, grid_code, lang), ()))
        return _after_registration(services, work, sender, state, replies, outcome)
    text = (msg.text or "").strip()
    if not text and msg.media:
        return _attach_media(services, work, sender, msg, replies, outcome)
    if not text:
        replies.append((t("conversation.not_understood", lang), ()))
        return state or None
    asked = case_lookup.parse_query(text)
    if asked is not None:
        replies.append((_reference_status(services, work, resident, asked, lang), ()))
        return state or None
    if state.get("awaiting") == "address":
        match = directory.match_address(text)
        if match is not None:
            resident.grid_code, resident.address_id = match.grid_code, match.address_id
            resident.address_text = match.address + (match.detail or "")
            replies.append((registered_text(services, work, match.grid_code, lang), ()))
            return _after_registration(services, work, sender, state, replies, outcome)
        tries = int(state.get("tries", 0)) + 1
        if tries >= 2 or len(text) > 25 or _reads_as_report(services, turn.fallback_nlu):
            # Maybe it was a report, not an address: understand it rather than ask a third time.
            assert turn.fallback_nlu is not None, "understood before the transaction (_prepare)"
            turn.nlu = turn.fallback_nlu
            inbound.nlu, inbound.intent, inbound.confidence = turn.nlu.to_rasa(), turn.nlu.intent, turn.nlu.confidence
            state = {k: v for k, v in state.items() if k not in ("awaiting", "tries")}
        else:
            replies.append((t("registration.address_not_found", lang), ()))
            return {**state, "tries": tries}
    nlu = turn.nlu
    assert nlu is not None
    return _understood(services, work, sender, nlu, text, msg, replies, outcome, state)


def _reads_as_report(services: Services, nlu: NluResult | None) -> bool:
    """An answer to "what is your address?" that the NLU confidently reads as a problem."""
    if nlu is None or not nlu.is_issue:
        return False
    urgent = assess_priority(nlu).priority != Priority.NORMAL
    return urgent or nlu.confidence >= services.settings.nlu.confidence_threshold


def _understood(
    services: Services,
    work: Work,
    sender: Sender,
    nlu: NluResult,
    text: str,
    msg: InboundMessage,
    replies: list[tuple[str, tuple[Option, ...]]],
    outcome: Outcome,
    state: dict[str, Any],
) -> dict[str, Any] | None:
    lang = sender.lang
    resident = sender.resident
    assert resident is not None
    intent = nlu.intent
    threshold = services.settings.nlu.confidence_threshold
    confident = nlu.confidence >= threshold
    if confident and intent == "find_leader":
        replies.append((find_leader_text(services, work, resident.grid_code, lang), ()))
        return None if not resident.grid_code else state or None
    if confident and intent == "check_status":
        replies.append((status_text(work, resident.id or 0, lang), ()))
        return state or None
    if intent in ("affirm", "deny") or nlu.is_issue:
        # An answer to "解决了吗？" in words — "没有解决", or the same problem again ("还是没水") — goes
        # to that case, with the resident's own words for the level above.
        from gridline.routing.closure import awaiting_confirmation

        pending = awaiting_confirmation(work, resident.id or 0)
        if pending is not None and (intent in ("affirm", "deny") or intent == pending.category):
            _solved_answer(services, work, pending, resident, intent == "affirm", text, replies, lang)
            return state or None
    if confident and intent in ("greet", "thanks", "affirm", "deny", "smalltalk"):
        replies.append((t(f"conversation.{intent}", lang), ()))
        if intent == "greet" and not resident.grid_code:
            replies.append((t("registration.ask_location", lang), ()))
            return {**state, "awaiting": "address"}
        return state or None
    if not nlu.is_issue and (intent == OUT_OF_SCOPE or not _substantive(text)):
        replies.append((t("conversation.not_understood", lang), ()))
        return state or None
    decision = decide_report(services, work, sender, nlu, text, msg)
    return _filed(services, work, sender, decision, replies, outcome, state)


def _filed(
    services: Services,
    work: Work,
    sender: Sender,
    decision: ReportDecision,
    replies: list[tuple[str, tuple[Option, ...]]],
    outcome: Outcome,
    state: dict[str, Any],
) -> dict[str, Any] | None:
    lang = sender.lang
    filed = file_report(services, work, sender, decision)
    case = filed.case
    outcome.case_id, outcome.case_ref = case.id, case.ref
    outcome.created_case, outcome.joined_case = filed.created, not filed.created
    if decision.priority == "emergency":
        replies.append((t("emergency.advice", lang), ()))
    if not filed.created:
        replies.append((t("case.joined", lang, ref=case.ref, count=case.report_count), ()))
        return state or None
    who = filed.holder_name
    grid_name = filed.grid_name
    new_state: dict[str, Any] = {k: v for k, v in state.items() if k not in ("options",)}
    if decision.ask_category:
        options = (
            *(Option(t(f"category.{c}", lang), f"cat:{case.ref}:{c}") for c in decision.candidates),
            Option(t("category.other", lang), f"cat:{case.ref}:other"),
        )
        replies.append((t("case.choose_category", lang, ref=case.ref), options))
        new_state["options"] = [o.data for o in options]
        if case.grid_code is None:
            replies.append((t("registration.ask_location", lang), ()))
            new_state.update(awaiting="address", triage_case_id=case.id)
        return new_state
    if case.grid_code is None:
        replies.append((t("case.created_triage", lang, ref=case.ref), ()))
        replies.append((t("registration.ask_location", lang), ()))
        new_state.update(awaiting="address", triage_case_id=case.id)
        return new_state
    if who:
        replies.append(
            (
                t(
                    "case.created",
                    lang,
                    ref=case.ref,
                    who=who,
                    grid=grid_name,
                    category=t(f"category.{case.category}", lang),
                ),
                (),
            )
        )
    else:
        replies.append(
            (
                t(
                    "case.created_nobody",
                    lang,
                    ref=case.ref,
                    grid=grid_name,
                    category=t(f"category.{case.category}", lang),
                ),
                (),
            )
        )
    return new_state or None


def _substantive(text: str) -> bool:
    """Enough words to be worth a person's attention (not a stray emoji or 'ok')."""
    letters = [c for c in text if c.isalpha()]
    cjk = [c for c in letters if "\u4e00" <= c <= "\u9fff"]
    return len(cjk) >= 4 or len(letters) >= 12


def _after_registration(
    services: Services,
    work: Work,
    sender: Sender,
    state: dict[str, Any],
    replies: list[tuple[str, tuple[Option, ...]]],
    outcome: Outcome,
) -> dict[str, Any] | None:
    """A resident just told us where they live: move a waiting triage case to their grid."""
    resident = sender.resident
    assert resident is not None and resident.grid_code
    case_id = state.get("triage_case_id")
    rest = {k: v for k, v in state.items() if k not in ("awaiting", "tries", "triage_case_id")}
    if case_id:
        case = work.session.get(Case, case_id)
        if case is not None and case.resident_id == resident.id and case.grid_code is None:
            reroute_after_registration(services, work, case, resident.grid_code)
            outcome.case_id, outcome.case_ref = case.id, case.ref
            replies.append(
                (t("case.rerouted", sender.lang, ref=case.ref, grid=grid_name(work, resident.grid_code)), ())
            )
    return rest or None


def _command(
    services: Services,
    work: Work,
    sender: Sender,
    msg: InboundMessage,
    replies: list[tuple[str, tuple[Option, ...]]],
) -> dict[str, Any] | None:
    resident = sender.resident
    assert resident is not None
    command = (msg.command or "").lower()
    if command == "lang":
        wanted = msg.command_args.strip() or other_language(resident.lang)
        resident.lang = normalise_language(wanted)
        replies.append((t("conversation.language_set", resident.lang), ()))
        return None
    if command == "status":
        asked = case_lookup.parse_query(f"status {msg.command_args}") if msg.command_args.strip() else None
        if asked is not None:
            replies.append((_reference_status(services, work, resident, asked, resident.lang), ()))
        else:
            replies.append((status_text(work, resident.id or 0, resident.lang), ()))
        return None
    if command == "help":
        replies.append((t("conversation.help", resident.lang), ()))
        return None
    # start (and anything unknown): welcome, then registration if needed
    if resident.grid_code:
        replies.append((t("conversation.welcome_back", resident.lang, grid=grid_name(work, resident.grid_code)), ()))
        return None
    replies.append((t("conversation.welcome", resident.lang), ()))
    replies.append((t("registration.ask_location", resident.lang), ()))
    return {"awaiting": "address"}


def _choice(
    services: Services,
    work: Work,
    sender: Sender,
    choice: str,
    replies: list[tuple[str, tuple[Option, ...]]],
    outcome: Outcome,
) -> dict[str, Any] | None:
    from gridline.core.reports import apply_category_choice
    from gridline.routing.actions import rate_case

    lang = sender.lang
    resident = sender.resident
    assert resident is not None
    if choice.startswith(checkins.CHOICE_PREFIX):
        answered = checkins.answer(
            work, services.settings, choice, identity_id=sender.identity.id, resident_id=resident.id,
            phone=sender.identity.external_id if sender.identity.channel in ("sms", "voice") else resident.phone,
            lang=lang, actor=f"resident:{resident.id}",
        )
        outcome.case_id, outcome.case_ref = answered.case_id, answered.case_ref
        replies.append((answered.text, ()))
        return None
    match = CHOICE_RE.match(choice)
    case = cases.by_ref(work.session, match.group(2)) if match else None
    if match is None or case is None or case.resident_id != resident.id:
        replies.append((t("conversation.choice_expired", lang), ()))
        return None
    outcome.case_id, outcome.case_ref = case.id, case.ref
    kind, value = match.group(1), match.group(3)
    if kind == "rate":
        ok = rate_case(
            work, case, int(value), actor=f"resident:{resident.id}", low_rating=services.settings.closure.low_rating
        )
        replies.append((t("case.rating_thanks" if ok else "case.rating_not_now", lang, ref=case.ref), ()))
        return None
    if kind == "solved":
        _solved_answer(services, work, case, resident, value == "yes", None, replies, lang)
        return None
    text = apply_category_choice(services, work, case, value, lang)
    replies.append((text, ()))
    return None


def _attach_media(
    services: Services,
    work: Work,
    sender: Sender,
    msg: InboundMessage,
    replies: list[tuple[str, tuple[Option, ...]]],
    outcome: Outcome,
) -> dict[str, Any] | None:
    """A photo or voicemail without words: attach it to the resident's latest open case, or open one."""
    resident = sender.resident
    assert resident is not None
    statuses = [s.value for s in OPEN_CASE_STATUSES]
    latest = cases.open_for_resident(work.session, resident.id or 0, statuses=statuses, limit=1)
    case = latest[0] if latest else None
    if case is not None:
        record_event(work, case.id or 0, "media", f"resident:{resident.id}", {"media": list(msg.media)})
        outcome.case_id, outcome.case_ref = case.id, case.ref
        replies.append((t("case.media_attached", sender.lang, ref=case.ref), ()))
        return None
    kind = msg.media[0].get("kind", "photo") if msg.media else "photo"
    summary = t("case.voicemail_summary" if kind == "voicemail" else "case.photo_summary", DEFAULT_LANGUAGE)
    nlu = NluResult(text=summary, intent="other", confidence=0.0, engine="none")
    decision = decide_report(services, work, sender, nlu, summary, msg)
    return _filed(services, work, sender, decision, replies, outcome, {})


def _reference_status(
    services: Services, work: Work, resident: Resident, asked: tuple[str, str | None], lang: str
) -> str:
    ref, last4 = asked
    return case_lookup.reference_status(work, resident.id, ref, last4, lang, services.settings.timezone)


def _solved_answer(
    services: Services,
    work: Work,
    case: Case,
    resident: Resident,
    solved: bool,
    words: str | None,
    replies: list[tuple[str, tuple[Option, ...]]],
    lang: str,
) -> None:
    """The resident's answer to "解决了吗？" (routing.closure)."""
    from gridline.routing import closure

    actor = f"resident:{resident.id}"
    if solved:
        ok = closure.confirmed_solved(work, case, actor)
    else:
        grids = Directory.for_services(services).grids
        ok = bool(closure.not_solved(work, grids, services.settings.timezone, case, actor, words)) or (
            case.status == "paged"
        )
    if not ok:
        replies.append((t("case.rating_not_now", lang, ref=case.ref), ()))

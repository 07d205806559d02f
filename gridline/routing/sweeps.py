"""Sweeps (排查): a supervisor asks every targeted household "1 平安 2 需要帮助" at once.

``start_sweep`` writes, in one transaction, the sweep, one ``CheckIn`` (kind ``sweep``) per household,
its question as an outbound message row (``kernel.outbox.queue_bulk``, paced like every bulk
message; delivered by ``deliver_message`` jobs: durable across restarts, claimed so never sent
twice) and its ``close`` step at the end of the window. Rows are written in batches
(``storage.sweeps.insert_returning``, ``storage.outbox.insert_many``): a sweep of 10,000
households is about 125 statements, not 50,000 (bench/sweep_bench.py). An answer goes through ``routing.checkins``
("2" → an urgent case); silence until the window ends → a visit due today (``visit_due_today``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gridline.i18n import t
from gridline.i18n.phrases import Phrase
from gridline.kernel.outbox import BulkMessage, queue_bulk
from gridline.kernel.work import Work
from gridline.routing.checkin_states import CheckInStatus
from gridline.routing.checkins import (
    choice_data,
    known_reasons,
    publish_checkin,
    question_lane,
    question_options,
    reason_phrase,
)
from gridline.routing.roster import known_tags
from gridline.routing.visits import schedule_visit
from gridline.settings import Settings
from gridline.storage import checkins as store
from gridline.storage import people
from gridline.storage import sweeps as sweep_store
from gridline.storage.models import ChannelIdentity, CheckIn, CheckInEvent, CheckInStep, Household, Sweep
from gridline.storage.pacing import MessageKind


class SweepRefused(ValueError):
    """A sweep that cannot start: ``key`` and ``params`` name the catalogue text that says why."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(t(key, "en", **params))
        self.key, self.params = key, params

    def text(self, lang: str) -> str:
        return t(self.key, lang, **self.params)


@dataclass
class SweepStarted:
    sweep: Sweep
    questions: int
    unreachable: int
    # The (checkin id, message id) pairs written, for the caller's bookkeeping (tests, the benchmark).
    message_ids: list[int] = field(default_factory=list)


def validate(
    settings: Settings, *, reason: str, grid_codes: Sequence[str], tags: Sequence[str], allowed_grids: set[str]
) -> None:
    if reason not in known_reasons(settings):
        raise SweepRefused("checkins.error.unknown_reason", reason=reason, known=", ".join(known_reasons(settings)))
    if not grid_codes:
        raise SweepRefused("checkins.error.no_grid")
    for code in grid_codes:
        if code not in allowed_grids:
            raise SweepRefused("checkins.error.unknown_grid", grid=code)
    roster_tags = set(known_tags(settings))
    for tag in tags:
        if tag not in roster_tags:
            raise SweepRefused("checkins.error.unknown_tag", tag=tag)


def start_sweep(
    work: Work,
    settings: Settings,
    *,
    reason: str,
    grid_codes: Sequence[str],
    tags: Sequence[str],
    started_by: str,
    allowed_grids: set[str],
) -> SweepStarted:
    """Validate, then write the sweep with every question, message, step and job in this transaction."""
    validate(settings, reason=reason, grid_codes=grid_codes, tags=tags, allowed_grids=allowed_grids)
    session, now = work.session, work.now
    targets = sweep_store.sweep_targets(session, grid_codes, tags)
    if not targets:
        raise SweepRefused("checkins.error.no_households")
    window = settings.checkins.sweep_window_minutes
    sweep = sweep_store.add_sweep(session, Sweep(
        reason=reason, grid_codes=sorted(set(grid_codes)), tags=sorted(set(tags)), started_by=started_by[:100],
        created_at=now, window_minutes=window, households=len(targets),
    ))  # fmt: skip
    identities = _identities(session, targets, now)
    # A sweep's question is created asked: its message is written in this same transaction.
    checkin_rows: list[dict[str, Any]] = []
    for tg, identity in zip(targets, identities, strict=True):
        checkin_rows.append({
            "kind": "sweep", "sweep_id": sweep.id, "household_id": tg.household_id, "person_id": tg.person_id,
            "resident_id": identity.resident_id if identity else tg.resident_id,
            "identity_id": identity.id if identity else None, "grid_code": tg.grid_code,
            "channel": identity.channel if identity else "none", "cycle": f"sweep:{sweep.id}",
            "status": (CheckInStatus.ASKED if identity else CheckInStatus.SCHEDULED).value, "due_at": now,
            "asked_at": now if identity else None, "message_ids": [], "created_at": now, "updated_at": now,
        })  # fmt: skip
    inserted = sweep_store.insert_returning(session, CheckIn, checkin_rows, ["household_id"])
    by_household = {hid: cid for cid, hid in inserted}
    checkin_ids = [by_household[tg.household_id] for tg in targets]
    questions: list[BulkMessage] = []
    asked: list[int] = []
    for i, tg in enumerate(targets):
        identity = identities[i]
        if identity is None:
            continue
        lang = tg.lang
        key = "checkins.sweep.voice" if identity.channel == "voice" else "checkins.sweep.ask"
        question = Phrase(key, {"reason": reason_phrase(settings, reason, lang)})
        questions.append(BulkMessage(
            identity, question, lang, resident_id=identity.resident_id, channel=identity.channel,
            options=question_options(checkin_ids[i], sweep=True), lane=question_lane(settings, identity),
        ))  # fmt: skip
        asked.append(checkin_ids[i])
    # Paced like every bulk message (kernel.outbox.queue_bulk): each sender lane reserves its send
    # times at once, and a Telegram chat's questions keep a second from its other bulk messages.
    queued = queue_bulk(work, settings, questions, kind=MessageKind.SWEEP)
    message_ids = [q.message_id for q in queued]
    sweep_store.set_message_ids(session, list(zip(asked, message_ids, strict=True)))
    # Each question's answer window starts when it leaves, not when the sweep was written.
    window_ends = {cid: q.send_at + timedelta(minutes=window) for cid, q in zip(asked, queued, strict=True)}
    step_rows: list[dict[str, Any]] = [
        {"checkin_id": cid, "stage": "close", "due_at": window_ends.get(cid, now), "status": "pending"}
        for cid in checkin_ids
    ]
    step_of = {cid: sid for sid, cid in sweep_store.insert_returning(session, CheckInStep, step_rows, ["checkin_id"])}
    step_ids = [step_of[row["checkin_id"]] for row in step_rows]
    events = [
        {"checkin_id": cid, "at": now, "kind": CheckInStatus.ASKED.value, "actor": f"sweep:{sweep.id}",
         "data": {"from": CheckInStatus.SCHEDULED.value, "to": CheckInStatus.ASKED.value, "sweep": sweep.id}}
        for cid in asked
    ]  # fmt: skip
    sweep_store.insert_plain(session, CheckInEvent, events)
    for step_id, row in zip(step_ids, step_rows, strict=True):
        work.job("run_checkin_step", f"chkstep:{step_id}", row["due_at"], step_id=step_id)
    work.event("checkins", {"type": "sweep.started", "sweep_id": sweep.id, "grid_code": None, "status": "asked"})
    return SweepStarted(sweep, len(asked), len(targets) - len(asked), message_ids)


def _identities(
    session: Any, targets: Sequence[sweep_store.SweepTarget], now: datetime
) -> list[ChannelIdentity | None]:
    """The identity each target is asked on: Telegram for those who chose it and wrote to a bot,
    else their number by SMS (or a call for those who chose voice). Missing ones are created."""
    out: list[ChannelIdentity | None] = [None] * len(targets)
    by_channel: dict[str, list[int]] = {"sms": [], "voice": []}
    for i, tg in enumerate(targets):
        if tg.channel == "telegram" and tg.resident_id is not None:
            telegram = [x for x in people.reachable_identities(session, tg.resident_id) if x.channel == "telegram"]
            if telegram:
                out[i] = telegram[0]
                continue
        if tg.phone:
            by_channel["voice" if tg.channel == "voice" else "sms"].append(i)
    for channel, indexes in by_channel.items():
        if not indexes:
            continue
        known = sweep_store.identities_by_target(session, channel, [targets[i].phone or "" for i in indexes])
        missing = sorted({targets[i].phone or "" for i in indexes if (targets[i].phone or "") not in known})
        if missing:
            first = {tg.phone: tg.resident_id for tg in targets if tg.phone in set(missing)}
            sweep_store.insert_plain(session, ChannelIdentity, [
                {"channel": channel, "external_id": phone, "bot_name": "", "resident_id": first.get(phone),
                 "unreachable": False, "created_at": now}
                for phone in missing
            ])  # fmt: skip
            known.update(sweep_store.identities_by_target(session, channel, missing))
        for i in indexes:
            identity = known.get(targets[i].phone or "")
            out[i] = identity if identity is not None and not identity.unreachable else None
    return out


def visit_due_today(work: Work, settings: Settings, checkin: CheckIn, household: Household) -> None:
    """No answer to a sweep's question: a visit due by the end of today, local time (走千家,
    ``routing.visits.schedule_visit``: a visit already owed is brought forward, never doubled)."""
    tz = ZoneInfo(settings.timezone)
    local = work.now.astimezone(tz)
    end_of_day = local.replace(hour=23, minute=59, second=0, microsecond=0).astimezone(ZoneInfo("UTC"))
    visit = schedule_visit(work, household.id or 0, end_of_day, f"sweep:{checkin.sweep_id}")
    checkin.visit_ref = str(visit.id) if visit is not None else None
    store.add_event(
        work.session, checkin.id or 0, at=work.now, kind="visit_due", actor="system",
        data={"due_at": end_of_day.isoformat(), "visit": visit.id if visit else None, "sweep": checkin.sweep_id},
    )  # fmt: skip
    publish_checkin(work, checkin)


@dataclass
class Coverage:
    sweep: Sweep
    asked: int
    ok: int
    help: int
    no_answer: int
    waiting: int
    unreachable: int
    delivery: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "sweep_id": self.sweep.id, "households": self.sweep.households, "asked": self.asked, "ok": self.ok,
            "help": self.help, "no_answer": self.no_answer, "waiting": self.waiting, "unreachable": self.unreachable,
            "delivery": self.delivery,
        }  # fmt: skip


def coverage(work: Work, sweep_id: int) -> Coverage | None:
    sweep = sweep_store.get_sweep(work.session, sweep_id)
    if sweep is None:
        return None
    counts = sweep_store.sweep_coverage(work.session, sweep_id)
    questions = sweep_store.sweep_questions(work.session, sweep_id, limit=100_000)
    message_ids = [m for q in questions for m in q.message_ids]
    unreachable = sum(1 for q in questions if not q.message_ids)
    missed = counts.get(CheckInStatus.MISSED.value, 0)
    return Coverage(
        sweep=sweep, asked=len(questions) - unreachable, ok=counts.get(CheckInStatus.OK.value, 0),
        help=counts.get(CheckInStatus.HELP.value, 0), no_answer=missed,
        waiting=counts.get(CheckInStatus.ASKED.value, 0) + counts.get(CheckInStatus.SCHEDULED.value, 0),
        unreachable=unreachable, delivery=sweep_store.questions_sent(work.session, message_ids),
    )  # fmt: skip


__all__ = ["Coverage", "SweepRefused", "SweepStarted", "choice_data", "coverage", "start_sweep", "visit_due_today"]

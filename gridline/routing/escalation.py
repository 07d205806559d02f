"""The escalation engine: durable steps that page people until someone acknowledges.

Each step is an ``EscalationStep`` row. Running a step claims the row (pending → running) with one
conditional UPDATE and does all of its database work — pages, the next step, the case status, the
timeline — in the same transaction, so a step happens exactly once however many workers race for
it and whatever crashes in between.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import TYPE_CHECKING

from gridline.domain.explanations import Reason, because
from gridline.domain.lifecycle import STEP, UNACKNOWLEDGED_STATUSES, CaseStatus, StepStatus
from gridline.kernel.outbox import tell_reporters
from gridline.kernel.work import Work, in_transaction, replayable, sends_here
from gridline.routing.directory import Directory
from gridline.routing.pages import create_page, next_contact_method
from gridline.routing.policy import EscalationPolicy
from gridline.routing.targets import Target, resolve_targets
from gridline.routing.timeline import publish_case, record_event, transition
from gridline.storage import case_events, cases, steps
from gridline.storage.models import Case

if TYPE_CHECKING:
    from sqlmodel import Session

    from gridline.kernel.services import Services

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def schedule_step(work: Work, case: Case, *, round_: int, step_index: int, delay_minutes: float) -> int:
    """A new pending step of the case, with its job for its due time; its id."""
    due_at = work.now + timedelta(minutes=delay_minutes)
    step_id = steps.add(work.session, case_id=case.id or 0, round_=round_, step_index=step_index, due_at=due_at)
    work.job("run_escalation_step", f"step:{step_id}", due_at, step_id=step_id)
    return step_id


def _names_paged_before(session: Session, case_id: int) -> set[str]:
    """Whom the case's earlier steps paged (the first page's names were in the resident's reply)."""
    events = case_events.events_of_kinds(session, case_id, ["paged", "escalated"])
    return {str(p.get("name")) for e in events for p in (e.data.get("people") or []) if isinstance(p, dict)}


def cancel_pending_steps(work: Work, case_id: int, outcome: str) -> int:
    return steps.cancel_pending(work.session, case_id, now=work.now, outcome=outcome)


def restart_escalation(work: Work, case: Case, reason: str, *, from_step: int = 0, delay_minutes: float = 0) -> int:
    """Start the case's policy over in a fresh round (re-routed, re-categorised, reassigned).

    Pending steps are cancelled; the policy's rounds now count from the returned round, so a restart
    gets the full number of repeats again.
    """
    cancel_pending_steps(work, case.id or 0, reason)
    new_round = steps.last_round(work.session, case.id or 0) + 1
    case.policy = {**case.policy, "round_offset": new_round}
    if from_step < len(case.policy.get("steps", [])):
        schedule_step(work, case, round_=new_round, step_index=from_step, delay_minutes=delay_minutes)
    return new_round


def _next_position(policy: EscalationPolicy, round_: int, step_index: int, offset: int) -> tuple[int, int] | None:
    """The step after (round_, step_index); rounds are counted from ``offset`` (a rerouted case restarts)."""
    if step_index + 1 < len(policy.steps):
        return round_, step_index + 1
    if round_ - offset < policy.repeat:
        return round_ + 1, 0
    return None


def escalate_case(work: Work, case: Case, reason: str) -> bool:
    """Run the next escalation step now; False when the policy has no step left."""
    last = steps.last_done(work.session, case.id or 0)
    cancel_pending_steps(work, case.id or 0, reason)
    policy = EscalationPolicy.from_snapshot(case.policy)
    offset = int(case.policy.get("round_offset", 0))
    nxt = (offset, 0) if last is None else _next_position(policy, last.round, last.step_index, offset)
    if nxt is None:
        # Past the last step: one more round of the last step, so 上报 is never a dead end.
        nxt = (last.round + 1 if last else offset, len(policy.steps) - 1)
        case.policy = {**case.policy, "repeat": policy.repeat + 1}
    existing = steps.at_position(work.session, case.id or 0, nxt[0], nxt[1])
    if existing is not None:
        STEP.move(existing, StepStatus.PENDING, work.now)
        existing.due_at = work.now
        work.job("run_escalation_step", f"step:{existing.id}:now", work.now, step_id=existing.id)
        return True
    schedule_step(work, case, round_=nxt[0], step_index=nxt[1], delay_minutes=0)
    return True


def page_targets(
    work: Work, case: Case, targets: list[Target], *, step_index: int, round_: int
) -> list[dict[str, object]]:
    """Page each target once on their first reachable channel; returns what was done, for the timeline.

    Inside a job (``kernel.work.sends_here``) each page is written claimed and sent after the commit
    (``routing.delivery.claim_new_page``): no claim transaction of its own."""
    from gridline.routing.delivery import WORDED_REASONS, claim_new_page  # delivery imports this module

    settings = sends_here()
    done: list[dict[str, object]] = []
    seen: set[int] = set()
    for target in targets:
        staff = target.staff
        if staff.id in seen:
            continue
        seen.add(staff.id or 0)
        method = next_contact_method(work.session, staff)
        if method is None:
            done.append({"staff": staff.code, "name": staff.name, "why": target.explanation, "channel": None})
            continue
        page = create_page(
            work.session,
            case=case,
            staff=staff,
            method=method,
            now=work.now,
            step_index=step_index,
            round_=round_,
            reason=target.reason,
            claimed_by=WORKER_ID if settings is not None and target.reason not in WORDED_REASONS else None,
        )
        key = f"page:{page.id}:0"
        work.job("deliver_page", key, page_id=page.id)
        if page.claimed_by is not None and settings is not None:
            claim_new_page(work, key, page, case, staff, settings)
        done.append(
            {
                "staff": staff.code,
                "name": staff.name,
                "why": target.explanation,
                "channel": method.channel,
                "page_id": page.id,
            }
        )
    return done


async def run_escalation_step(services: Services, step_id: int) -> str:
    """Run one due step; returns what happened (for logs and tests)."""
    directory = Directory.for_services(services)
    return await in_transaction(services, run_step, step_id, directory, services.settings.timezone)


@replayable
def run_step(work: Work, step_id: int, directory: Directory, tz: str) -> str:
    """Claim the step and do all of it (pages, the next step, the case's status) in this transaction."""
    session = work.session
    step = steps.claim(session, step_id, now=work.now, worker=WORKER_ID)
    if step is None:
        return "not claimed"
    case = cases.get(session, step.case_id, fresh=True)
    assert case is not None
    if case.status not in UNACKNOWLEDGED_STATUSES:
        outcome = f"case {case.status}"
        steps.finish(session, step.id, StepStatus.CANCELLED, now=work.now, outcome=outcome)
        return outcome
    outcome, nxt = _run_claimed(work, case, step.round, step.step_index, directory, tz)
    if nxt is not None:
        schedule_step(work, case, round_=nxt[0], step_index=nxt[1], delay_minutes=nxt[2])
    # The step's row is written once, with its outcome (one UPDATE, no ORM object).
    steps.finish(session, step.id, StepStatus.DONE, now=work.now, outcome=outcome)
    return outcome


def run_first_step_now(work: Work, case: Case, directory: Directory, tz: str) -> str:
    """A new case's first step, due now, run in the unit of work that opens the case: its pages and
    its next step are written here, and its row is inserted done (one INSERT, where a pending step,
    its job, the job's claim, a read of the case and the step's finish took five statements and a
    transaction of their own). Exactly once as before: the step never exists as pending, so no
    worker or reconciler can run it a second time."""
    outcome, nxt = _run_claimed(work, case, 0, 0, directory, tz)
    # Its row, done, and the next step's, pending, in one INSERT.
    later = (nxt[0], nxt[1], work.now + timedelta(minutes=nxt[2])) if nxt is not None else None
    next_id = steps.add_done(work.session, case_id=case.id or 0, round_=0, step_index=0, now=work.now,
                             outcome=outcome, worker=WORKER_ID, then=later)
    if later is not None and next_id is not None:
        work.job("run_escalation_step", f"step:{next_id}", later[2], step_id=next_id)
    return outcome


def _run_claimed(
    work: Work, case: Case, round_: int, step_index: int, directory: Directory, tz: str
) -> tuple[str, tuple[int, int, float] | None]:
    """The step at (``round_``, ``step_index``) of ``case`` (unacknowledged): page its targets, move the
    case; its outcome and the next step's round, position and wait in minutes (the caller writes the
    step's row and schedules the next)."""
    session = work.session
    policy = EscalationPolicy.from_snapshot(case.policy)
    spec = policy.steps[step_index]
    index = directory.grid_index(session)
    targets: list[Target] = []
    for name in spec.notify:
        targets.extend(resolve_targets(session, index, case, name, work.now, tz))
    offset = int(case.policy.get("round_offset", 0))
    first = round_ == offset and step_index == 0
    triage = False
    if first and not targets:
        # Nobody on duty (or no grid): the triage queue and the supervisors, never nobody.
        triage = True
        targets = resolve_targets(session, index, case, "supervisors", work.now, tz)
    paged = page_targets(work, case, targets, step_index=step_index, round_=round_)
    reached = [p for p in paged if p.get("channel")]
    if triage:
        new_status = CaseStatus.TRIAGE
    elif first:
        new_status = CaseStatus.PAGED if reached else CaseStatus.ESCALATED
    else:
        new_status = CaseStatus.ESCALATED
    kind = "paged" if first else "escalated"
    # The resident hears of people they have not heard of yet: a repeat round pages the same people
    # again, and telling them each time sent six 「暂未得到回应」 in 13 minutes on an emergency.
    told = set() if first else _names_paged_before(session, case.id or 0)
    transition(
        work,
        case,
        new_status,
        kind=kind,
        data={
            "round": round_,
            "step": step_index,
            "notify": list(spec.notify),
            "people": paged,
            "triage": triage,
        },
    )
    if paged:
        entry = because(kind, Reason.STEP_PAGED, round=round_ + 1, step=step_index + 1)
        entry["people"] = [{"name": p["name"], "why": p["why"]} for p in paged]
    else:
        entry = because(kind, Reason.NOBODY_FOR, targets=list(spec.notify))
    case.explanation = [*case.explanation, {**entry, "round": round_, "step": step_index}]
    news = list(dict.fromkeys(str(p["name"]) for p in reached if str(p["name"]) not in told))
    if news and not first:
        tell_reporters(work, case, "case.escalated", names=news)
    position = _next_position(policy, round_, step_index, offset)
    nxt: tuple[int, int, float] | None = None
    if position is not None:
        # A step that reached nobody does not make the resident wait for its timeout.
        nxt = (position[0], position[1], spec.wait_minutes if reached else 0)
    else:
        record_event(work, case.id, "escalation_exhausted")
    publish_case(work, case)
    return f"{kind}: {len(reached)} reached", nxt

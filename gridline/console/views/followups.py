"""回访 tasks in the console: the follow-up calls a supervisor makes, with a call script and the outcome.

Only a supervisor (or admin) who did not handle the case records a call; the outcome is what the
rates believe: "satisfied" confirms the resolution (with the rating given on the phone), "not
solved" reopens a resolved case one level up (``routing.closure``), "unreachable" is just noted.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gridline.bots.twilio.voice_followup import place_follow_up_call
from gridline.console.access import case_scope
from gridline.console.http import ConsoleContext, Forbidden, NotFound, client_ip, in_console, redirect, state_of
from gridline.domain.lifecycle import CaseStatus
from gridline.edge.params import RowId
from gridline.routing import closure
from gridline.routing.directory import Directory
from gridline.routing.rating import rate_case
from gridline.routing.timeline import record_event
from gridline.storage import follow_up_calls, follow_ups
from gridline.storage.audit import record
from gridline.storage.models import Case, FollowUp, FollowUpCall, Staff

router = APIRouter()
OUTCOMES = ("satisfied", "not_solved", "unreachable")


def _open_tasks(ctx: ConsoleContext) -> list[tuple[FollowUp, Case, str]]:
    rows = follow_ups.open_with_cases(ctx.session, scope=case_scope(ctx.viewer), limit=200)
    tasks = []
    for task, case in rows:
        holder = ctx.session.get(Staff, case.resolved_by or case.acknowledged_by or 0)
        tasks.append((task, case, holder.name if holder else "—"))
    return tasks


def _latest_calls(ctx: ConsoleContext, tasks: list[tuple[FollowUp, Case, str]]) -> dict[int, FollowUpCall]:
    return follow_up_calls.latest_for_tasks(ctx.session, [task.id for task, _case, _holder in tasks if task.id])


def _task_to_call(ctx: ConsoleContext, task_id: int) -> tuple[FollowUp, Case] | str:
    """The 回访 task and its case when this viewer may call about it now, else why not
    (``already_recorded``, ``own_case``: the call is by someone who did not handle the case)."""
    if not ctx.viewer.can_manage_cases:
        raise Forbidden()
    found = follow_ups.with_case(ctx.session, task_id, scope=case_scope(ctx.viewer))
    if found is None:
        raise NotFound()
    task, _case = found
    if task.called_at is not None:
        return "already_recorded"
    if ctx.viewer.staff_id is not None and ctx.viewer.staff_id in (task.handled_by or []):
        return "own_case"
    return found


@router.get("/follow-ups", response_class=HTMLResponse)
async def follow_up_list(request: Request) -> Response:
    def body(ctx: ConsoleContext) -> Response:
        tasks = _open_tasks(ctx)
        return ctx.render(
            "followups.html", tasks=tasks, done=request.query_params.get("done", ""),
            error=request.query_params.get("error", ""), outcomes=OUTCOMES, calls=_latest_calls(ctx, tasks),
        )  # fmt: skip

    return await in_console(request, body)


@router.post("/follow-ups/{task_id}")
async def follow_up_record(request: Request, task_id: RowId) -> Response:
    form = await request.form()
    outcome = str(form.get("outcome") or "")
    raw_rating = str(form.get("rating") or "")
    rating = int(raw_rating) if raw_rating in ("1", "2", "3", "4", "5") else None
    note = str(form.get("note") or "").strip()[:2000] or None

    def body(ctx: ConsoleContext) -> Response:
        found = _task_to_call(ctx, task_id)
        if isinstance(found, str):
            return redirect("/console/follow-ups", error=found)
        task, case = found
        if outcome not in OUTCOMES or (outcome == "satisfied" and case.status == CaseStatus.RESOLVED and not rating):
            return redirect("/console/follow-ups", error="bad_outcome")
        actor = ctx.viewer.actor
        if case.status == CaseStatus.RESOLVED and outcome == "satisfied":
            record_event(ctx.work, case.id or 0, "resident_confirmed", actor, {"by": "follow_up"})
            rate_case(ctx.work, case, rating or 5, actor=actor, low_rating=0)
        elif case.status == CaseStatus.RESOLVED and outcome == "not_solved":
            index = Directory.for_services(ctx.services).grids
            closure.not_solved(ctx.work, index, ctx.services.settings.timezone, case, actor, note)
        task.called_at, task.called_by, task.outcome, task.note = ctx.now, actor, outcome, note
        ctx.session.add(task)
        record_event(ctx.work, case.id or 0, "follow_up_called", actor, {"outcome": outcome, "rating": rating})
        record(ctx.session, at=ctx.now, actor=actor, action="follow_up.record", target_kind="case",
               target_id=case.id or 0, detail={"outcome": outcome, "follow_up_id": task.id},
               ip=client_ip(request))  # fmt: skip
        return redirect("/console/follow-ups", done="recorded")

    return await in_console(request, body, form=form)


@router.post("/follow-ups/{task_id}/call")
async def follow_up_call(request: Request, task_id: RowId) -> Response:
    """The voice channel places the 回访 call (bots/twilio/voice_followup.py); the keys are recorded."""
    form = await request.form()

    def check(ctx: ConsoleContext) -> str:
        found = _task_to_call(ctx, task_id)
        if isinstance(found, str):
            return found
        task, case = found
        record(ctx.session, at=ctx.now, actor=ctx.viewer.actor, action="follow_up.call", target_kind="case",
               target_id=case.id or 0, detail={"follow_up_id": task.id}, ip=client_ip(request))  # fmt: skip
        return ""

    refused = await in_console(request, check, form=form)
    if refused:
        return redirect("/console/follow-ups", error=refused)
    actor = await in_console(request, lambda ctx: ctx.viewer.actor, form=form)
    code = await place_follow_up_call(state_of(request).services, task_id, actor)
    if code == "call_placed":
        return redirect("/console/follow-ups", done=code)
    return redirect("/console/follow-ups", error=code)

"""The audit log (admins and auditors), console accounts (admins) and the live event stream."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from gridline.console.audit_scope import audit_scope
from gridline.console.filters import MAX_PAGE, PAGE_SIZE, like_pattern
from gridline.console.http import ConsoleContext, Forbidden, NotFound, in_console, redirect, state_of
from gridline.console.live import scoped_case_events
from gridline.console.sessions import SESSION_COOKIE, lookup_session
from gridline.edge.params import RowId
from gridline.edge.text import ascii_int
from gridline.kernel.work import Work, in_transaction
from gridline.storage import audit, console
from gridline.storage.audit import record
from gridline.storage.models import ConsoleUser

router = APIRouter()


@router.get("/audit", response_class=HTMLResponse)
async def audit_log(request: Request) -> Response:
    params = request.query_params
    page_text = params.get("page", "1")
    page = ascii_int(page_text, lowest=1, highest=MAX_PAGE) or 1
    actor, action = params.get("actor", "").strip(), params.get("action", "").strip()

    def body(ctx: ConsoleContext) -> Response:
        if not ctx.viewer.can_read_audit_log:
            raise Forbidden()
        entries, total, shown = audit.listing(
            ctx.session, scope=audit_scope(ctx.viewer), actor_like=like_pattern(actor) if actor else None,
            action_like=like_pattern(action) if action else None, page=page, page_size=PAGE_SIZE,
        )
        pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
        return ctx.render("audit.html", entries=entries, total=total, page=shown, pages=pages,
                          actor=actor, action=action)

    return await in_console(request, body)


@router.get("/users", response_class=HTMLResponse)
async def users(request: Request) -> Response:
    def body(ctx: ConsoleContext) -> Response:
        if not ctx.viewer.can_manage_users:
            raise Forbidden()
        people = console.users_by_name(ctx.session)
        return ctx.render("users.html", users=people, done=request.query_params.get("done", ""))

    return await in_console(request, body)


@router.post("/users/{user_id}/unlock")
async def unlock_user(request: Request, user_id: RowId) -> Response:
    form = await request.form()

    def body(ctx: ConsoleContext) -> None:
        if not ctx.viewer.can_manage_users:
            raise Forbidden()
        user = ctx.session.get(ConsoleUser, user_id)
        if user is None:
            raise NotFound()
        user.failed_logins = 0
        user.locked_until = None
        ctx.session.add(user)
        record(ctx.session, at=ctx.now, actor=ctx.viewer.actor, action="console.unlock_user",
               target_kind="console_user", target_id=user_id)

    await in_console(request, body, form=form)
    return redirect("/console/users", done="unlocked")


@router.get("/events")
async def live_events(request: Request) -> Response:
    """Server-sent events of the cases this user may see."""
    viewer = await in_console(request, lambda ctx: ctx.viewer)
    services = state_of(request).services
    cookie = request.cookies.get(SESSION_COOKIE)

    def logged_in(work: Work) -> bool:
        return lookup_session(work.session, cookie, now=work.now,
                              secret=services.settings.server.secret_key) is not None

    async def still_logged_in() -> bool:
        return await in_transaction(services, logged_in)

    return StreamingResponse(
        scoped_case_events(services, viewer, still_logged_in=still_logged_in),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )

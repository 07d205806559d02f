"""The household roster in the console: a scoped list, a household's page, edits and reveals (audited)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from gridline.console.http import ConsoleContext, Forbidden, NotFound, client_ip, in_console, redirect, state_of
from gridline.console.roster_access import can_edit_roster, roster_scope
from gridline.domain.privacy import mask_phone
from gridline.edge.params import RowId
from gridline.importers import Invalid
from gridline.importers.fields import normalize_phone
from gridline.routing.roster import known_tags, tag_label
from gridline.routing.visits import VisitReport, household_visits, record_visit
from gridline.storage import households as roster
from gridline.storage.audit import record
from gridline.storage.households import RosterScope
from gridline.storage.models import Household

router = APIRouter()
PAGE_SIZE = 50
DONE_CODES = frozenset({"saved", "removed", "visit_logged"})
ERROR_CODES = frozenset({"bad_phone", "helper_needs_name", "visit_not_your_grid", "visit_already_done",
                         "visit_bad_outcome", "visit_not_staff", "visit_unknown_visit"})


def _known(code: str, known: frozenset[str]) -> str:
    """Only codes the page has a text for are shown (a crafted link cannot make it say anything)."""
    return code if code in known else ""


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 6 else 1


def _tags(ctx: ConsoleContext) -> list[tuple[str, str]]:
    settings = ctx.services.settings
    return [(code, tag_label(settings, code, ctx.lang)) for code in known_tags(settings)]


@router.get("/households", response_class=HTMLResponse)
async def household_list(request: Request) -> Response:
    query = request.query_params
    grid, tag, page = query.get("grid") or None, query.get("tag") or None, _page_number(query.get("page"))

    def body(ctx: ConsoleContext) -> Response:
        scope = roster_scope(ctx.session, ctx.viewer, ctx.tree)
        rows, total = roster.listing(
            ctx.session, scope, grid=grid, tag=tag, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        base_grids = [
            (code, ctx.tree.name(code)) for code, g in ctx.tree.grids.items()
            if g.level == 3 and scope.allows(code)
        ]  # fmt: skip
        return ctx.render(
            "households.html", rows=rows, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
            grid=grid or "", tag=tag or "", tags=_tags(ctx), grid_choices=base_grids,
            counts=roster.counts_by_tag(ctx.session, scope),
        )  # fmt: skip

    return await in_console(request, body)


def _household(ctx: ConsoleContext, household_id: int) -> Household:
    household = roster.get(ctx.session, roster_scope(ctx.session, ctx.viewer, ctx.tree), household_id)
    if household is None:
        raise NotFound()  # 404, not 403: nobody learns which rooms exist in other grids
    return household


@router.get("/households/{household_id}", response_class=HTMLResponse)
async def household_page(request: Request, household_id: RowId) -> Response:
    def body(ctx: ConsoleContext) -> Response:
        household = _household(ctx, household_id)
        return ctx.render(
            "household.html", h=household, people=roster.people_of(ctx.session, household_id), tags=_tags(ctx),
            can_edit=can_edit_roster(ctx.viewer), done=_known(request.query_params.get("done", ""), DONE_CODES),
            error=_known(request.query_params.get("error", ""), ERROR_CODES),
            visits=household_visits(ctx.session, household), can_log_visit=can_edit_roster(ctx.viewer),
        )  # fmt: skip

    return await in_console(request, body)


@router.post("/households/{household_id}")
async def household_edit(request: Request, household_id: RowId) -> Response:
    form = await request.form()
    target = f"/console/households/{household_id}"

    def body(ctx: ConsoleContext) -> Response:
        if not can_edit_roster(ctx.viewer):
            raise Forbidden()
        allowed = set(known_tags(ctx.services.settings))
        tags = [str(v) for v in form.getlist("tags") if str(v) in allowed]
        helper_name = str(form.get("helper_name") or "").strip()[:100] or None
        helper_phone_raw = str(form.get("helper_phone") or "").strip()
        household = _household(ctx, household_id)
        # The form shows the number masked; sent back unchanged, it means "keep it".
        unchanged = bool(household.helper_phone) and helper_phone_raw == mask_phone(household.helper_phone)
        try:
            helper_phone = household.helper_phone if unchanged else (
                normalize_phone(helper_phone_raw) if helper_phone_raw else None
            )
        except Invalid:
            return redirect(target, error="bad_phone")
        if helper_phone and not helper_name:
            return redirect(target, error="helper_needs_name")
        before = {"tags": household.tags, "consent_checkin": household.consent_checkin,
                  "consent_family": household.consent_family, "helper_name": household.helper_name}  # fmt: skip
        household.tags = tags
        household.consent_checkin = form.get("consent_checkin") == "1"
        household.consent_family = form.get("consent_family") == "1"
        household.helper_name = helper_name
        household.helper_phone = helper_phone
        household.notes = str(form.get("notes") or "").strip()[:2000] or None
        household.updated_at = ctx.now
        ctx.session.add(household)
        after = {"tags": tags, "consent_checkin": household.consent_checkin,
                 "consent_family": household.consent_family, "helper_name": helper_name}  # fmt: skip
        # The audit log says what changed, never a number.
        changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
        record(ctx.session, at=ctx.now, actor=ctx.viewer.actor, action="household.edit", target_kind="household",
               target_id=household_id, detail={"grid_code": household.grid_code, "changed": changed},
               ip=client_ip(request))  # fmt: skip
        return redirect(target, done="saved")

    return await in_console(request, body, form=form)


@router.post("/households/{household_id}/visit")
async def household_visit(request: Request, household_id: RowId) -> Response:
    """走千家 from the console: a visit logged (正常 / 有问题 with a note). A console user linked to a
    staff record must be staff of the household's grid; an administrator or supervisor records it for
    the grid (their roster scope must cover it); auditors log nothing."""
    form = await request.form()
    outcome = str(form.get("outcome") or "")
    note = str(form.get("note") or "").strip()[:2000]
    target = f"/console/households/{household_id}"

    def check(ctx: ConsoleContext) -> tuple[int | None, RosterScope | None, str, str]:
        if not can_edit_roster(ctx.viewer):
            raise Forbidden()
        household = _household(ctx, household_id)
        scope = None if ctx.viewer.staff_id else RosterScope(frozenset({household.grid_code}))
        return ctx.viewer.staff_id, scope, ctx.viewer.actor, ctx.lang

    staff_id, scope, actor, lang = await in_console(request, check, form=form)
    if outcome not in ("ok", "problem"):
        return redirect(target, error="visit_bad_outcome")
    report = VisitReport(outcome="ok" if outcome == "ok" else "problem", note=note, household_id=household_id,
                         channel="web")
    logged = await record_visit(state_of(request).services, report, staff_id=staff_id, actor=actor,
                                grid_scope=scope, lang=lang)
    if logged.ok:
        return redirect(target, done="visit_logged")
    return redirect(target, error=f"visit_{logged.code}")


@router.post("/households/{household_id}/remove")
async def household_remove(request: Request, household_id: RowId) -> Response:
    form = await request.form()

    def body(ctx: ConsoleContext) -> Response:
        if not can_edit_roster(ctx.viewer):
            raise Forbidden()
        household = _household(ctx, household_id)
        if form.get("confirm") != "1":
            return redirect(f"/console/households/{household_id}")
        household.removed_at = household.updated_at = ctx.now
        ctx.session.add(household)
        record(ctx.session, at=ctx.now, actor=ctx.viewer.actor, action="household.remove", target_kind="household",
               target_id=household_id, detail={"grid_code": household.grid_code}, ip=client_ip(request))  # fmt: skip
        return redirect("/console/households", done="removed")

    return await in_console(request, body, form=form)


@router.post("/households/{household_id}/reveal")
async def household_reveal(request: Request, household_id: RowId) -> Response:
    """One number of a household (a member's, a family contact's or the helper's), audited."""
    form = await request.form()
    who = str(form.get("who") or "")

    def body(ctx: ConsoleContext) -> Response:
        if not ctx.viewer.can_reveal_contacts:
            raise Forbidden()
        household = _household(ctx, household_id)
        if who == "helper":
            value = household.helper_phone or ""
        else:
            person = next((p for p in roster.people_of(ctx.session, household_id) if str(p.id) == who), None)
            if person is None:
                raise NotFound()
            value = person.phone or ""
        record(ctx.session, at=ctx.now, actor=ctx.viewer.actor, action="household.reveal", target_kind="household",
               target_id=household_id, detail={"grid_code": household.grid_code, "who": who},
               ip=client_ip(request))  # fmt: skip
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"value": value})
        return ctx.render("reveal.html", value=value, case_id=None, back=f"/console/households/{household_id}")

    return await in_console(request, body, form=form)

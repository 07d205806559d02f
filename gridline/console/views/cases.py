"""Case list, case page, the live row fragment and the CSV export of cases."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gridline.console.access import can_see_case
from gridline.console.case_list import case_search_for, list_cases, to_rows
from gridline.console.choices import form_choices
from gridline.console.export import cases_csv, csv_response
from gridline.console.filters import CaseFilters
from gridline.console.http import ConsoleContext, NotFound, client_ip, in_console, redirect
from gridline.console.timeline import load_case_detail
from gridline.edge.params import RowId
from gridline.routing.directory import Directory
from gridline.routing.transfers import panel as loop_panel
from gridline.storage import case_search
from gridline.storage import evidence as evidence_rows
from gridline.storage.audit import record

router = APIRouter()

# A CSV export is capped so a click cannot ask the database for millions of rows at once.
EXPORT_LIMIT = 50_000


async def home(request: Request) -> Response:
    """``/console``: supervisors start on the dashboard, leaders on their cases."""

    def body(ctx: ConsoleContext) -> str:
        return "/console/dashboard" if ctx.viewer.role in ("admin", "supervisor", "auditor") else "/console/cases"

    return redirect(await in_console(request, body))


@router.get("/cases", response_class=HTMLResponse)
async def case_list(request: Request) -> Response:
    filters = CaseFilters.from_query(request.query_params)

    def body(ctx: ConsoleContext) -> Response:
        result = list_cases(
            ctx.session,
            ctx.viewer,
            filters,
            ctx.tree,
            now=ctx.now,
            tz=ctx.tz,
            confidence_threshold=ctx.services.settings.nlu.confidence_threshold,
        )
        return ctx.render(
            "cases.html",
            filters=filters,
            result=result,
            choices=form_choices(ctx),
            live=result.page == 1,
            threshold=ctx.services.settings.nlu.confidence_threshold,
        )

    return await in_console(request, body)


@router.get("/cases.csv")
async def case_export(request: Request) -> Response:
    filters = CaseFilters.from_query(request.query_params)

    def body(ctx: ConsoleContext) -> Response:
        search = case_search_for(
            ctx.viewer,
            filters,
            ctx.tree,
            now=ctx.now,
            tz=ctx.tz,
            confidence_threshold=ctx.services.settings.nlu.confidence_threshold,
        )
        found = case_search.first_cases(ctx.session, search, limit=EXPORT_LIMIT)
        rows = to_rows(ctx.session, found, ctx.tree, ctx.now)
        record(ctx.session, at=ctx.now, actor=ctx.viewer.actor, action="console.export_cases",
               target_kind="cases", detail={"filters": filters.to_query(), "rows": len(rows)}, ip=client_ip(request))
        text = cases_csv(rows, ctx.tree, ctx.tz, ctx.lang)
        stamp = ctx.now.astimezone(ctx.tz).strftime("%Y%m%d-%H%M")
        return csv_response(text, f"gridline-cases-{stamp}.csv")

    return await in_console(request, body)


@router.get("/cases/{case_id}/row", response_class=HTMLResponse)
async def case_row(request: Request, case_id: RowId) -> Response:
    """One ``<tr>`` of the case list, for the live feed (checked against the viewer's scope again)."""

    def body(ctx: ConsoleContext) -> Response:
        case = can_see_case(ctx.session, ctx.viewer, case_id)
        if case is None:
            raise NotFound()
        row = to_rows(ctx.session, [case], ctx.tree, ctx.now)[0]
        return ctx.render("_case_row.html", row=row, fresh=True,
                          threshold=ctx.services.settings.nlu.confidence_threshold)

    return await in_console(request, body)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: RowId) -> Response:
    def body(ctx: ConsoleContext) -> Response:
        case = can_see_case(ctx.session, ctx.viewer, case_id)
        if case is None:
            raise NotFound()
        detail = load_case_detail(ctx.session, ctx.viewer, case, ctx.now)
        index = Directory.for_services(ctx.services).grid_index(ctx.session)
        detail.grid_chain = ctx.tree.ancestors(case.grid_code)
        return ctx.render(
            "case.html",
            d=detail,
            choices=form_choices(ctx, case=case),
            done=request.query_params.get("done", ""),
            error=request.query_params.get("error", ""),
            threshold=ctx.services.settings.nlu.confidence_threshold,
            evidence_live={row.id for row in evidence_rows.for_case(ctx.session, case.id or 0)},
            dept=loop_panel(ctx.session, ctx.services.settings, index, case, ctx.now, ctx.lang),
        )

    return await in_console(request, body)

"""The dashboard page and its CSV export."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gridline.console.chart import category_colours, daily_chart
from gridline.console.checkin_metrics import CheckInBoard, CheckInFigures, build_checkin_board
from gridline.console.dashboard import Dashboard, build_dashboard, choose_period
from gridline.console.export import csv_response, write_csv
from gridline.console.http import ConsoleContext, client_ip, in_console
from gridline.console.metrics import LEVELS, Comparison, Summary
from gridline.console.visit_metrics import VisitBoard, VisitFigures, build_visit_board
from gridline.storage.audit import record

router = APIRouter()


def _dashboard(ctx: ConsoleContext, request: Request) -> Dashboard:
    today = ctx.now.astimezone(ctx.tz).date()
    period = choose_period(request.query_params, today)
    level_text = request.query_params.get("level", "2")
    level = int(level_text) if level_text in ("1", "2", "3") else 2
    return build_dashboard(
        ctx.session,
        ctx.viewer,
        ctx.tree,
        period=period,
        level=level,
        now=ctx.now,
        tz=ctx.tz,
        triage_label=ctx.text("grid.triage"),
        category_label=lambda c: ctx.text(f"category.{c}"),
    )


def _visit_board(ctx: ConsoleContext, board: Dashboard) -> VisitBoard:
    return build_visit_board(ctx.session, ctx.viewer, ctx.tree, period=board.period, now=ctx.now, tz=ctx.tz,
                             overall_label=ctx.text("dash.overall"), nobody_label=ctx.text("visits.nobody"))


def _checkin_board(ctx: ConsoleContext, board: Dashboard) -> CheckInBoard:
    return build_checkin_board(ctx.session, ctx.viewer, ctx.tree, period=board.period, previous=board.previous,
                               tz=ctx.tz, overall_label=ctx.text("dash.overall"))


CHECKIN_FIGURES: tuple[tuple[str, str], ...] = (
    ("asked", "dash.checkins_asked"),
    ("answered", "dash.checkins_answered"),
    ("response_rate", "dash.checkin_response_pct"),
    ("door_median", "dash.door_median_min"),
    ("door_p90", "dash.door_p90_min"),
    ("urgent", "dash.checkin_urgent"),
)


def checkin_value(figures: CheckInFigures, name: str) -> str:
    """A check-in figure as the CSV shows it: percent for the rate, minutes to one decimal, blank when undefined."""
    value = getattr(figures, name)
    if value is None:
        return ""
    if name == "response_rate":
        return f"{value * 100:.1f}"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


VISIT_FIGURES: tuple[tuple[str, str], ...] = (
    ("due", "dash.visits_due"),
    ("done", "dash.visits_done"),
    ("coverage", "dash.visit_coverage_pct"),
    ("on_time_share", "dash.visit_on_time_pct"),
    ("problems", "dash.visit_problems"),
    ("overdue", "dash.visits_overdue"),
)


def visit_value(figures: VisitFigures, name: str) -> str:
    value = getattr(figures, name)
    if value is None:
        return ""
    return f"{value * 100:.1f}" if isinstance(value, float) else str(value)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_page(request: Request) -> Response:
    def body(ctx: ConsoleContext) -> Response:
        board = _dashboard(ctx, request)

        def link(day: date, category: str) -> str:
            query = board.drill(category=category)
            query.update({"from": day.isoformat(), "to": day.isoformat()})
            return "/console/cases?" + urlencode(query)

        chart = daily_chart(
            board.daily,
            label=lambda c: ctx.text(f"category.{c}"),
            link=link,
            title=ctx.text("dash.chart_title"),
        )
        query = {k: v for k, v in request.query_params.items() if k in ("from", "to", "days", "level")}
        return ctx.render(
            "dashboard.html",
            board=board,
            chart=chart,
            colours=category_colours(board.daily.categories),
            levels=LEVELS,
            export_query=urlencode(query),
            days=request.query_params.get("days", "" if "from" in request.query_params else "7"),
            visits=_visit_board(ctx, board),
            checkins=_checkin_board(ctx, board),
        )

    return await in_console(request, body)


FIGURES: tuple[tuple[str, str], ...] = (
    ("cases", "dash.cases"),
    ("tta_median", "dash.tta_median_min"),
    ("tta_p90", "dash.tta_p90_min"),
    ("ttr_median", "dash.ttr_median_min"),
    ("ttr_p90", "dash.ttr_p90_min"),
    ("breach_rate", "dash.breach_rate_pct"),
    ("rating_mean", "dash.rating_mean"),
    ("rated", "dash.rated"),
    ("satisfied_share", "dash.satisfied_pct"),
    ("response_rate", "dash.response_rate_pct"),
    ("solve_rate", "dash.solve_rate_pct"),
    ("solve_coverage", "dash.solve_coverage_pct"),
    ("satisfaction_coverage", "dash.satisfaction_coverage_pct"),
    ("overdue", "dash.overdue"),
    ("proactive", "dash.proactive"),
    ("proactive_share", "dash.proactive_pct"),
)


def figure_value(summary: Summary, name: str) -> str:
    """A figure as the CSV shows it: minutes for times, percent for rates, blank when undefined."""
    value = getattr(summary, name)
    if value is None:
        return ""
    if name.startswith(("tta", "ttr")):
        return f"{value / 60:.1f}"
    if name in ("breach_rate", "satisfied_share", "proactive_share") or name.endswith(("_rate", "_coverage")):
        return f"{value * 100:.1f}"
    if name == "rating_mean":
        return f"{value:.2f}"
    return str(value)


@router.get("/dashboard.csv")
async def dashboard_export(request: Request) -> Response:
    def body(ctx: ConsoleContext) -> Response:
        board = _dashboard(ctx, request)
        header = [ctx.text("csv.section"), ctx.text("csv.key"), ctx.text("csv.name"), ctx.text("csv.figure"),
                  ctx.text("csv.current", start=str(board.period.start), end=str(board.period.end)),
                  ctx.text("csv.previous", start=str(board.previous.start), end=str(board.previous.end))]
        rows: list[list[object]] = []

        def add(section: str, comparisons: list[Comparison]) -> None:
            for comp in comparisons:
                for name, label in FIGURES:
                    rows.append([section, comp.key, comp.label, ctx.text(label),
                                 figure_value(comp.current, name), figure_value(comp.previous, name)])

        add(ctx.text("dash.overall"), [board.overall])
        add(ctx.text("dash.by_grid"), board.by_grid)
        add(ctx.text("dash.by_leader"), board.by_leader)
        add(ctx.text("dash.by_category"), board.by_category)
        for comp in board.by_leader:
            expected = board.leader_expected.get(comp.key)
            rows.append([ctx.text("dash.by_leader"), comp.key, comp.label, ctx.text("dash.solve_expected_pct"),
                         "" if expected is None else f"{expected * 100:.1f}", ""])
        now_, before = board.overall.current, board.overall.previous
        for level in LEVELS:
            rows.append([ctx.text("dash.resolved_level"), level, ctx.text(f"dash.level_{level}"),
                         ctx.text("dash.cases"), now_.resolved_at_level(level), before.resolved_at_level(level)])
        for day in board.daily.days:
            for category, count in sorted(board.daily.counts[day].items()):
                rows.append([ctx.text("dash.per_day"), day.isoformat(), ctx.text(f"category.{category}"),
                             ctx.text("dash.cases"), count, ""])
        visits = _visit_board(ctx, board)
        for section, group in ((ctx.text("dash.visits_overall"), [visits.overall]),
                               (ctx.text("dash.visits_by_grid"), visits.by_grid),
                               (ctx.text("dash.visits_by_member"), visits.by_member)):
            for figures in group:
                for name, label in VISIT_FIGURES:
                    rows.append([section, figures.key, figures.label, ctx.text(label), visit_value(figures, name), ""])
        checkins = _checkin_board(ctx, board)
        for section, crows in ((ctx.text("dash.checkins_overall"), [checkins.overall]),
                               (ctx.text("dash.checkins_by_grid"), checkins.by_grid)):
            for crow in crows:
                for name, label in CHECKIN_FIGURES:
                    rows.append([section, crow.key, crow.label, ctx.text(label),
                                 checkin_value(crow.current, name), checkin_value(crow.previous, name)])
        record(ctx.session, at=ctx.now, actor=ctx.viewer.actor, action="console.export_dashboard",
               target_kind="dashboard", detail={"from": str(board.period.start), "to": str(board.period.end)},
               ip=client_ip(request))
        return csv_response(write_csv(header, rows),
                            f"gridline-dashboard-{board.period.start}-{board.period.end}.csv")

    return await in_console(request, body)

"""Conversation list and conversation page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gridline.console.choices import form_choices
from gridline.console.conversation_list import ConversationFilters, list_conversations, load_conversation
from gridline.console.http import ConsoleContext, NotFound, in_console
from gridline.console.timeline import NluView
from gridline.edge.params import RowId

router = APIRouter()


@router.get("/conversations", response_class=HTMLResponse)
async def conversation_list(request: Request) -> Response:
    filters = ConversationFilters.from_query(request.query_params)

    def body(ctx: ConsoleContext) -> Response:
        result = list_conversations(
            ctx.session,
            ctx.viewer,
            filters,
            ctx.tree,
            tz=ctx.tz,
            confidence_threshold=ctx.services.settings.nlu.confidence_threshold,
        )
        return ctx.render("conversations.html", filters=filters, result=result, choices=form_choices(ctx))

    return await in_console(request, body)


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(request: Request, conversation_id: RowId) -> Response:
    def body(ctx: ConsoleContext) -> Response:
        detail = load_conversation(ctx.session, ctx.viewer, conversation_id, ctx.now)
        if detail is None:
            raise NotFound()
        return ctx.render(
            "conversation.html",
            d=detail,
            nlu={m.id: NluView.of(m) for m in detail.messages if m.direction == "in"},
            choices=form_choices(ctx),
            done=request.query_params.get("done", ""),
            error=request.query_params.get("error", ""),
            threshold=ctx.services.settings.nlu.confidence_threshold,
        )

    return await in_console(request, body)

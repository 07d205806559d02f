"""What the pages of the department loop and of extensions say: a headline before the case, and
their own SMS text with the reply code (``routing.transfers``, ``routing.extensions``) — catalogue
keys and their facts, rendered by the page's channel (``bots.page_text``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from gridline.i18n.phrases import Phrase
from gridline.kernel.notify import Said
from gridline.routing import extensions, transfers
from gridline.settings import Settings
from gridline.storage.models import Case, Page

PAGE_REASONS = transfers.PAGE_REASONS | extensions.PAGE_REASONS


@dataclass(frozen=True)
class LoopLines:
    headline: Said  # before the case's text
    short: Said  # the whole SMS, with the reply code


def loop_lines(session: Session, settings: Settings, case: Case, page: Page) -> LoopLines | None:
    """The lines of a loop page (keys and facts; the page's channel words them), or None for any other page."""
    if page.reason not in PAGE_REASONS:
        return None
    address = (case.address_text or case.grid_code or "—")[:20]
    base = {"code": str(page.code or ""), "category": Phrase(f"category.{case.category}"), "address": address}
    params = transfers.page_params(session, settings, case, page)
    if params is not None:
        # A case with no resident (主动发现): approving resolves it, nobody is asked 解决了吗.
        quiet = "_quiet" if page.reason == "transfer_replied" and case.resident_id is None else ""
        head = Said(f"page.transfer.{page.reason}{quiet}", params)
        short = Said(f"page.transfer_short.{page.reason}", {**params, **base, "reply": params["reply"][:40]})
        return LoopLines(head, short)
    params = extensions.page_params(session, settings, case, page)
    if params is not None:
        kind = params["kind"]
        short = Said(f"page.extension_short.{kind}", {**params, **base, "reason": params["reason"][:30]})
        return LoopLines(Said(f"page.extension.{kind}", params), short)
    return None

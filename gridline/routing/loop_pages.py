"""What the pages of the department loop and of extensions say: a headline before the case, and
their own SMS text with the reply code (``routing.transfers``, ``routing.extensions``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from gridline.i18n import t
from gridline.routing import extensions, transfers
from gridline.settings import Settings
from gridline.storage.models import Case, Page

PAGE_REASONS = transfers.PAGE_REASONS | extensions.PAGE_REASONS


@dataclass(frozen=True)
class LoopTexts:
    headline: str  # before the case's text
    short: str  # the whole SMS, with the reply code


def loop_texts(session: Session, settings: Settings, case: Case, page: Page, lang: str) -> LoopTexts | None:
    """The texts of a loop page in ``lang``, or None for any other page."""
    if page.reason not in PAGE_REASONS:
        return None
    address = (case.address_text or case.grid_code or "—")[:20]
    base = {"code": str(page.code or ""), "category": t(f"category.{case.category}", lang), "address": address}
    params = transfers.page_params(session, settings, case, page, lang)
    if params is not None:
        head = t(f"page.transfer.{page.reason}", lang, **params)
        short = t(f"page.transfer_short.{page.reason}", lang, **{**params, **base, "reply": params["reply"][:40]})
        return LoopTexts(head, short)
    params = extensions.page_params(session, settings, case, page, lang)
    if params is not None:
        kind = params["kind"]
        short = t(f"page.extension_short.{kind}", lang, **{**params, **base, "reason": params["reason"][:30]})
        return LoopTexts(t(f"page.extension.{kind}", lang, **params), short)
    return None

"""What a page and a staff action's answer say, rendered at the edge from facts
(``kernel.notify.PageNotice``, ``kernel.notify.Said``).

Routing decides who is paged and why; this decides the words, from the catalogue, in the staff
member's language. Every channel starts here: Telegram shows ``full`` (plus how to answer there),
an SMS is ``short`` (one segment where possible, with the reply code; ``bots.twilio.sms_text``), a
phone call speaks ``full`` (``bots.twilio.voice_page``), the web push shows its own title and body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gridline.i18n import t
from gridline.i18n.phrases import Phrase, as_written, render
from gridline.kernel.notify import CannotRender, PageNotice, Said
from gridline.routing.action_result import ActionResult
from gridline.routing.chasing import CHASE_REASONS
from gridline.routing.closure import REOPENED
from gridline.routing.deadlines import due_phrase
from gridline.settings import Settings


@dataclass(frozen=True)
class PageTexts:
    full: str  # the whole page, channel-neutral
    short: str  # one SMS segment where possible, with the reply code


def said_text(line: Said, lang: str | None = None) -> str:
    """``line`` in ``lang`` (default: the language it was said in: a staff action's actor's)."""
    return render(line, lang or line.lang)


def page_texts(notice: PageNotice, settings: Settings | None = None, now: datetime | None = None) -> PageTexts:
    """The page's texts; with ``settings`` and ``now`` the full text ends with its deadline (限时 …).
    Raises ``CannotRender`` when the catalogue cannot word its facts (the page then fails over)."""
    try:
        return _page_texts(notice, settings, now)
    except (KeyError, ValueError, IndexError) as exc:
        raise CannotRender(f"{type(exc).__name__}: {exc}") from exc


def _page_texts(notice: PageNotice, settings: Settings | None, now: datetime | None) -> PageTexts:
    lang, reason = notice.lang, notice.reason
    where = notice.address or notice.grid_name
    count = t("page.reports", lang, count=notice.report_count) if notice.report_count > 1 else ""
    full = t("page.text", lang, ref=notice.case_ref, headline=headline(notice, lang), grid=notice.grid_name,
             address=where, summary=notice.summary[:300], count=count)  # fmt: skip
    short = t("page.short", lang, code=notice.code or "", headline=headline(notice, lang, short=True),
              address=where[:20])  # fmt: skip
    if notice.repeat > 0 and notice.loop_headline is None and reason != REOPENED and reason not in CHASE_REASONS:
        # The policy went round once and nobody took it: the same people see this is not a new case.
        full = t("page.repeat", lang, n=notice.repeat + 1) + "\n" + full
        short = t("page.repeat_short", lang, n=notice.repeat + 1) + short
    if reason == REOPENED:
        full = t("page.reopened", lang, words=notice.reopened_words or "") + "\n" + full
        short = t("page.reopened_short", lang) + short
    if reason in CHASE_REASONS:
        full = t(f"page.chase.{reason}", lang, due=notice.chase_due or "—") + "\n" + full
        short = t(f"page.chase.{reason}_short", lang) + short
    if notice.loop_headline is not None:
        full = said_text(notice.loop_headline, lang) + "\n" + full
    if notice.loop_short is not None:
        short = said_text(notice.loop_short, lang)
    if notice.due_at is not None and settings is not None and now is not None:
        full = full + "\n" + render(due_phrase(settings, notice.due_at, now), lang)
    return PageTexts(full, short)


def headline(notice: PageNotice, lang: str, *, short: bool = False) -> str:
    """How urgent and what: 「紧急 供水」 (the SMS 「紧急供水」, a normal one just 「供水」). A category
    whose word says the priority already (紧急事件 / Emergency) is said alone, not 「紧急紧急事件」."""
    category = t(f"category.{notice.category}", lang)
    priority = t(f"priority.{notice.priority}", lang)
    if (short and notice.priority == "normal") or priority.casefold() in category.casefold():
        return category
    return t("page.headline_short" if short else "page.headline", lang, priority=priority, category=category)


def updated_page_text(notice: PageNotice, note: Said) -> str:
    """A delivered page as it reads now, with a note of what happened since (who took the case)."""
    return page_texts(notice).full + "\n\n" + t(note.key, notice.lang, ref=notice.case_ref, **note.params)


def answer_text(result: ActionResult, lang: str | None = None) -> str:
    """What the person who acted on a case is told, in their language or ``lang`` (a screen's: the
    sandbox page in English); the console says it by code."""
    return said_text(result.said, lang) if result.said is not None else ""


def answer_phrase(result: ActionResult) -> Phrase:
    """:func:`answer_text` as a phrase, for a message that keeps its key (an SMS answer)."""
    return result.said if result.said is not None else as_written("")

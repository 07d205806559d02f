"""Delivery of pages: their policy on the outbox engine (``kernel.outbox_engine``), and later edits.

A page is claimed (scheduled → sending) in its own short transaction, handed to the notifier, and
the outcome recorded. Temporary failures are retried with backoff; a permanent failure marks the
contact method unreachable and pages the same person on their next channel. Before anything is
sent the case is re-read: a page about an acknowledged case is never sent. Outbox messages run on
the same engine (``message_delivery``); provider status callbacks land in ``provider_status``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session

from gridline.domain.lifecycle import OPEN_CASE_STATUSES, PAGE, UNACKNOWLEDGED_STATUSES, CaseStatus, PageStatus
from gridline.kernel.notify import Delivery, Notifier, PageNotice, PageUpdate, Said
from gridline.kernel.outbox import direct_send
from gridline.kernel.outbox_engine import (
    DELIVERED_RANK,
    FAILED_STATUSES,
    Claimed,
    backoff,
    claim_with_row,
    deliver,
    retry_at,
)
from gridline.kernel.work import Work, in_transaction
from gridline.routing import chasing
from gridline.routing.closure import REOPENED, reopen_words
from gridline.routing.escalation import WORKER_ID
from gridline.routing.loop_pages import PAGE_REASONS as LOOP_REASONS
from gridline.routing.loop_pages import LoopLines, loop_lines
from gridline.routing.pages import create_page, next_contact_method
from gridline.settings import Settings
from gridline.storage import cases, directory, directory_cache, pages
from gridline.storage.models import Case, ContactMethod, Grid, Page, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)


class CaseFacts(Protocol):
    """What a page's words need of its case (a ``Case``, or the columns a page's claim read)."""

    @property
    def id(self) -> int | None: ...
    @property
    def ref(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def priority(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def address_text(self) -> str | None: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def lon(self) -> float | None: ...
    @property
    def report_count(self) -> int: ...
    @property
    def policy(self) -> dict[str, Any]: ...


class PageFacts(Protocol):
    """What a page's words need of its row (a ``Page``, or the columns its claim returned)."""

    @property
    def id(self) -> int | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def bot_name(self) -> str: ...
    @property
    def code(self) -> int | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def round(self) -> int: ...


# Pages whose words depend on more than the case and the person (``claim_page`` reads their row).
WORDED_REASONS = frozenset({REOPENED, *chasing.CHASE_REASONS, *LOOP_REASONS})


def page_notice(
    case: CaseFacts,
    staff: Staff,
    grid: Grid | None,
    page: PageFacts,
    note: str | None = None,
    loop: LoopLines | None = None,
    due_at: datetime | None = None,
) -> PageNotice:
    """The page's facts for its channel to render (``bots.page_text``). ``note``: what the page must
    say first (a reopened case: the resident's words; a chasing page: its deadline); ``loop``: the
    lines of a department-loop or extension page (``routing.loop_pages``); ``due_at``: the deadline
    the page ends with."""
    return PageNotice(
        page_id=page.id or 0,
        case_id=case.id or 0,
        case_ref=case.ref,
        channel=page.channel,
        target=page.target,
        bot_name=page.bot_name,
        staff_id=staff.id or 0,
        staff_name=staff.name,
        lang=staff.lang,
        code=page.code,
        category=case.category,
        priority=case.priority,
        grid_name=grid.name if grid else "—",
        address=case.address_text or _shared_location(case),
        summary=case.summary,
        report_count=case.report_count,
        reason=page.reason,
        reopened_words=note if page.reason == REOPENED else None,
        chase_due=note if page.reason in chasing.CHASE_REASONS else None,
        loop_headline=loop.headline if loop else None,
        loop_short=loop.short if loop else None,
        due_at=due_at,
        repeat=max(0, page.round - int(case.policy.get("round_offset", 0))),
    )


async def deliver_page(services: Services, page_id: int) -> str:
    """Claim the page, send it outside any transaction, then record what the provider said."""
    return await deliver(services, PAGES, page_id)


class PagePolicy:
    """Pages on the outbox engine: a page about a case someone took is never sent, the provider's
    chat/message ref is kept (to edit the page later), and a page that fails for good pages the same
    person on their next channel. Twilio is asked about an interrupted SMS page before it is resent."""

    kind = "page"
    model = Page
    lifecycle = PAGE
    sending = PageStatus.SENDING.value
    waiting = PageStatus.SCHEDULED.value

    def claim(self, work: Work, row_id: int, settings: Settings) -> Claimed[PageNotice] | Delivery | str:
        return claim_page(work, row_id, settings)

    def get(self, session: Session, row_id: int) -> Page | None:
        return pages.get(session, row_id)

    def by_provider_message_id(self, session: Session, provider_message_id: str) -> Page | None:
        return pages.by_provider_message_id(session, provider_message_id)

    def record_sent(self, work: Work, row_id: int, delivery: Delivery) -> bool:
        if delivery.provider_ref:  # merged into the row's (``noted``): the long way
            return False
        return pages.record_sent(work.session, row_id, state=delivery.state, error=delivery.error,
                                 provider_message_id=delivery.provider_message_id, now=work.now)

    def without_notifier(self, channel: str) -> Delivery:
        return Delivery("failed", error=f"no notifier for channel {channel}", unreachable=False)

    async def send(self, notifier: Notifier, notice: PageNotice) -> Delivery:
        return await notifier.send_page(notice)

    async def find(self, notifier: Notifier, notice: PageNotice, since: datetime) -> Delivery | None:
        find = getattr(notifier, "find_page", None)
        if find is None:
            raise LookupError(notice.channel)
        found: Delivery | None = await find(notice, since)
        return found

    def noted(self, row: Page, delivery: Delivery) -> None:
        if delivery.provider_ref:
            row.provider_ref = {**row.provider_ref, **delivery.provider_ref}

    def settled(self, work: Work, row: Page) -> None:
        if row.status in (PageStatus.SENT, PageStatus.DELIVERED):
            row.sent_at = row.sent_at or work.now  # delivered at once (a call answered) was sent too

    def retry_later(self, work: Work, row: Page, delay: float, settings: Settings) -> str:
        return retry_at(work, row, delay, "deliver_page", "page", page_id=row.id)

    def failed(self, work: Work, row: Page, delivery: Delivery) -> None:
        fall_back(work, row, unreachable=delivery.unreachable, reason=delivery.error or delivery.state)

    def provider_seq(self, row: Page) -> int:
        return row.provider_seq

    def provider_news(self, work: Work, row: Page, status: str, rank: int, seq: int, error: str | None) -> str:
        """Failed or undelivered: the next channel; delivered (or a call answered) counts once sent."""
        row.provider_seq = seq
        row.provider_status = status
        if status in FAILED_STATUSES:
            if row.status in (PageStatus.SENT, PageStatus.DELIVERED, PageStatus.SENDING):
                PAGE.move(row, PageStatus.FAILED, work.now)
                row.error = (error or status)[:500]
                fall_back(work, row, unreachable=False, reason=error or status)
            return "failed"
        if rank >= DELIVERED_RANK and row.status == PageStatus.SENT:
            PAGE.move(row, PageStatus.DELIVERED, work.now)
        return row.status


PAGES = PagePolicy()


def claim_page(work: Work, page_id: int, settings: Settings | None = None) -> Claimed[PageNotice] | Delivery | str:
    """Claim a due page and render it: what to send, a failed delivery to record (the page cannot
    be rendered), or why there is nothing to send."""
    page = pages.claim_for_sending(work.session, page_id, now=work.now, worker=WORKER_ID)
    if page is None:
        return "not claimed"
    if page.next_attempt_at and page.next_attempt_at > work.now:
        pages.unclaim(work.session, page_id, PageStatus.SCHEDULED, now=work.now)
        return "not due"
    case = pages.case_of_page(work.session, page.case_id)
    # The directory's copy (``storage.directory_cache``): the page's words need the person's name and
    # language, and the unit of work reads the directory's token for the grid anyway.
    staff = directory_cache.staff_to_read(work.session, page.staff_id)
    assert case is not None and staff is not None
    # Chasing pages (催办, 督办) and the department loop's are about cases someone may already have;
    # every other page ends there.
    loop_page = page.reason in LOOP_REASONS and case.status in OPEN_CASE_STATUSES
    if case.status not in UNACKNOWLEDGED_STATUSES and page.reason != "reassigned" and not loop_page and (
        page.reason not in chasing.CHASE_REASONS or case.status != CaseStatus.ACKNOWLEDGED
    ):
        pages.unclaim(work.session, page_id, PageStatus.EXPIRED, now=work.now)
        return f"expired: case {case.status}"
    grid = directory.grid(work.session, case.grid_code)
    try:
        note: str | None = None
        loop: LoopLines | None = None
        if page.reason in WORDED_REASONS:  # its words come from the case's timeline: the whole rows
            row, whole = pages.get(work.session, page_id), cases.get(work.session, page.case_id)
            assert row is not None and whole is not None
            note = reopen_words(work.session, whole, row) or chasing.chase_note(work.session, whole, row)
            loop = loop_lines(work.session, settings, whole, row) if settings is not None else None
        due_at = case.resolve_due_at if settings is not None else None
        notice = page_notice(case, staff, grid, page, note, loop, due_at)
        if page.channel == "telegram":
            direct_send(work, settings, page.bot_name, page.target)  # the chat's bulk keeps a second away
        return Claimed.of(page, page.channel, notice)
    except Exception as exc:  # a page that cannot be rendered must not be retried forever: fail over
        log.exception("page %s cannot be rendered", page_id)
        return Delivery("failed", error=f"render: {type(exc).__name__}: {exc}"[:300])


def claim_new_page(work: Work, key: str, page: Page, case: Case, staff: Staff, settings: Settings) -> None:
    """``page`` was just written claimed (``sending``) for this worker, about ``case`` (unacknowledged)
    and to ``staff``: render it here, as :func:`claim_page` would, and send it after the commit
    (``kernel.outbox_engine.claim_with_row``) instead of its job's claim and its reads of the case
    and the person."""
    claimed: Claimed[PageNotice] | Delivery
    try:
        grid = directory.grid(work.session, case.grid_code)
        notice = page_notice(case, staff, grid, page, None, None, case.resolve_due_at)
        if page.channel == "telegram":
            direct_send(work, settings, page.bot_name, page.target)  # the chat's bulk keeps a second away
        claimed = Claimed.of(page, page.channel, notice)
    except Exception as exc:  # as claim_page: a page that cannot be rendered fails over
        log.exception("page %s cannot be rendered", page.id)
        claimed = Delivery("failed", error=f"render: {type(exc).__name__}: {exc}"[:300])
    claim_with_row(work, PAGES, key, page.id or 0, claimed)


def fall_back(work: Work, page: Page, *, unreachable: bool, reason: str) -> Page | None:
    """Page the same person on their next channel (the page's step and round stay the same)."""
    session = work.session
    method = session.get(ContactMethod, page.contact_method_id) if page.contact_method_id else None
    if unreachable and method is not None:
        method.unreachable = True
        method.unreachable_reason = reason[:300]
        if method.channel == "telegram":
            for identity in directory.staff_identities(session, page.staff_id, "telegram"):
                identity.unreachable = True
    case = cases.get(session, page.case_id)
    staff = session.get(Staff, page.staff_id)
    if case is None or staff is None or case.status not in UNACKNOWLEDGED_STATUSES:
        return None
    tried = pages.methods_tried(
        session, case_id=page.case_id, staff_id=page.staff_id, round_=page.round, step_index=page.step_index
    )
    nxt = next_contact_method(session, staff, after=method, exclude_ids=tried)
    if nxt is None:
        return None
    new_page = create_page(
        session,
        case=case,
        staff=staff,
        method=nxt,
        now=work.now,
        step_index=page.step_index,
        round_=page.round,
        reason=page.reason,
    )
    work.job("deliver_page", f"page:{new_page.id}:0", page_id=new_page.id)
    return new_page


MAX_PAGE_UPDATE_ATTEMPTS = 5


def page_update(work: Work, page_id: int, note_key: str, params: dict[str, str]) -> PageUpdate | None:
    """The page as it reads now plus a note of what happened since; None when it is gone."""
    page = pages.get(work.session, page_id)
    staff = work.session.get(Staff, page.staff_id) if page else None
    case = cases.get(work.session, page.case_id) if page else None
    if page is None or staff is None or case is None:
        return None
    return PageUpdate(
        page_id=page_id,
        channel=page.channel,
        target=page.target,
        bot_name=page.bot_name,
        page=page_notice(case, staff, directory.grid(work.session, case.grid_code), page),
        note=Said(note_key, params),
        provider_ref=dict(page.provider_ref),
    )


async def update_page(services: Services, page_id: int, note_key: str, params: dict[str, str], attempt: int = 0) -> str:
    """Show on an already-delivered page what happened since (buttons removed, who acknowledged).

    A provider that asks to wait (Telegram's 429) gets the edit again later: a stale button would be
    refused anyway, but a leader should not have to tap it to learn that someone else took the case.
    """
    update_ = await in_transaction(services, page_update, page_id, note_key, params)
    if update_ is None:
        return "gone"
    notifier = services.notifiers.get(update_.channel)
    if notifier is None:
        return "no notifier"
    try:
        result = await notifier.update_page(update_)
    except Exception:  # cosmetic: the page's state is already right in the database
        log.warning("could not update page %s on %s", page_id, update_.channel, exc_info=True)
        return "failed"
    if result is not None and result.state == "retry":
        if attempt + 1 >= MAX_PAGE_UPDATE_ATTEMPTS:
            return "gave up"
        when = services.clock.now() + timedelta(seconds=backoff(attempt + 1, result.retry_after))
        await services.jobs.enqueue(
            "update_page",
            f"pageupd:{page_id}:{note_key}:{attempt + 1}",
            when,
            page_id=page_id,
            note_key=note_key,
            params=params,
            attempt=attempt + 1,
        )
        return "retry"
    return "updated"


def _shared_location(case: CaseFacts) -> str | None:
    """Where a resident who shared a location (and typed no address) is: the point, which a leader's
    map app opens, instead of the grid's name a second time."""
    if case.lat is None or case.lon is None:
        return None
    return f"{case.lat:.5f},{case.lon:.5f}"

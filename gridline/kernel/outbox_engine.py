"""The outbox engine: the one machine every row that leaves Gridline through a notifier runs on.

claim (a conditional UPDATE in its own short transaction) → send through the channel's
``Notifier`` outside any transaction, the claim renewed while the provider works and given back as
interrupted on SIGTERM (``send_claims``) → record what the provider said → sent, retried with
backoff, or failed for good → the kind's fall-back. Its kinds are pages (``routing.delivery.PAGES``)
and outbox messages (``routing.message_delivery.MESSAGES``); what differs between them — which page
to send next when a channel fails, the pacing of bulk messages, what a missing notifier means — is a
small ``SendPolicy`` each. Provider status callbacks for either kind land in one handler,
:func:`apply_provider_status`. The rows stay the truth: every status write goes through the kind's
lifecycle (``Lifecycle.move``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from sqlmodel import Session

from gridline.domain.lifecycle import Lifecycle
from gridline.kernel.notify import CannotRender, Delivery, Notifier
from gridline.kernel.send_claims import INTERRUPTED, record_possible_duplicate, renewed_claim
from gridline.kernel.work import ClaimedSend, Work, in_transaction
from gridline.storage import claims

if TYPE_CHECKING:
    from gridline.kernel.services import Services
    from gridline.settings import Settings

log = logging.getLogger(__name__)

N = TypeVar("N")
N_contra = TypeVar("N_contra", contravariant=True)


# Provider statuses (Twilio's message and call statuses) in the order they happen, so that a callback
# never moves a row backwards; from ``DELIVERED_RANK`` on it arrived (or a person answered).
STATUS_ORDER = {
    "queued": 0,
    "accepted": 0,
    "sending": 1,
    "sent": 2,
    "ringing": 2,
    "in-progress": 3,
    "delivered": 4,
    "answered": 4,
    "completed": 5,
    "read": 5,
    "undelivered": 6,
    "failed": 6,
    "busy": 6,
    "no-answer": 6,
    "canceled": 6,
}
DELIVERED_RANK = 4
FAILED_STATUSES = frozenset({"undelivered", "failed", "busy", "no-answer", "canceled"})


def backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds before attempt ``attempt + 1``: doubling from 4 s up to 5 min, never sooner than the
    provider asked (``retry_after``)."""
    return max(retry_after or 0.0, min(300.0, 2.0 * (2**attempt)))


@dataclass(frozen=True)
class Claimed(Generic[N]):
    """A row claimed for sending, and what to hand its channel's notifier."""

    row_id: int
    channel: str
    notice: N
    interrupted: bool  # an earlier send of this row was cut off: ask the provider before sending again
    created_at: datetime

    @classmethod
    def of(cls, row: Any, channel: str, notice: N) -> Claimed[N]:
        return cls(row.id or 0, channel, notice, row.error == INTERRUPTED, row.created_at)


class SendPolicy(Protocol[N_contra]):
    """What one kind of outgoing row does where the engine's machine leaves it a choice."""

    kind: str  # "page" / "message": logs and the audit entry of a possible double send
    model: type[Any]  # the row's table (``claimed_at``, ``attempts``, ``error``, ``provider_message_id``)
    lifecycle: Lifecycle[Any]
    sending: str  # the claimed status
    waiting: str  # where a retry waits (scheduled / queued)

    def claim(self, work: Work, row_id: int, settings: Settings) -> Claimed[Any] | Delivery | str:
        """Claim a due row: what to send, a failed delivery to record at once, or why nothing is sent."""
        ...

    def get(self, session: Session, row_id: int) -> Any: ...

    def record_sent(self, work: Work, row_id: int, delivery: Delivery) -> bool:
        """The provider took the row (sent or delivered): record it in one statement when nothing
        else is to be done about it (still ``sending``, nothing of the delivery kept but its id);
        False to record it the long way (read the row, then decide)."""
        ...

    def by_provider_message_id(self, session: Session, provider_message_id: str) -> Any | None: ...

    def without_notifier(self, channel: str) -> Delivery:
        """What a row on a channel nobody registered a notifier for comes to."""
        ...

    async def send(self, notifier: Notifier, notice: N_contra) -> Delivery: ...

    async def find(self, notifier: Notifier, notice: N_contra, since: datetime) -> Delivery | None:
        """The provider's record of an interrupted send (e.g. Twilio's message list); None when it
        has none. Raise ``LookupError`` when the provider cannot be asked: the re-send is counted."""
        ...

    def noted(self, row: Any, delivery: Delivery) -> None:
        """Keep what the provider handed back beyond its message id (a Telegram chat/message ref)."""
        ...

    def settled(self, work: Work, row: Any) -> None:
        """After the row was sent, failed, or found already settled by someone else."""
        ...

    def retry_later(self, work: Work, row: Any, delay: float, settings: Settings) -> str:
        """The row waits again (already moved to ``waiting``): give it its time and its job."""
        ...

    def failed(self, work: Work, row: Any, delivery: Delivery) -> None:
        """The row failed for good on its channel (already moved to failed): fall back."""
        ...

    def provider_seq(self, row: Any) -> int:
        """The sequence of the newest provider status applied to the row."""
        ...

    def provider_news(self, work: Work, row: Any, status: str, rank: int, seq: int, error: str | None) -> str:
        """Apply a newer provider status (``seq`` beats the row's) to the row; the outcome in words."""
        ...


async def deliver(services: Services, policy: SendPolicy[Any], row_id: int) -> str:
    """Claim the row, send it outside any transaction, then record what the provider said."""
    settings = services.settings
    claimed = await in_transaction(services, policy.claim, row_id, settings)
    if isinstance(claimed, str):
        return claimed
    return await send_claimed(services, policy, row_id, claimed)


def claim_with_row(
    work: Work, policy: SendPolicy[Any], key: str, row_id: int, claimed: Claimed[Any] | Delivery
) -> None:
    """The unit of work that created row ``row_id`` claimed it (``sending``) and queued its delivery
    job ``key``, due now: the send is made after the commit (``kernel.work.Work.claim_send``) without
    the job's claim transaction; ``claimed``: what to send, or a failed delivery to record."""

    async def send(services: Services) -> str:
        return await send_claimed(services, policy, row_id, claimed)

    def release(release_work: Work) -> None:
        claims.release_interrupted(release_work.session, policy.model, row_id, status=policy.sending, error=None)

    work.claim_send(key, ClaimedSend(send, release))


async def send_claimed(
    services: Services, policy: SendPolicy[Any], row_id: int, claimed: Claimed[Any] | Delivery
) -> str:
    """Send a claimed row outside any transaction, then record what the provider said."""
    settings = services.settings
    delivery = claimed if isinstance(claimed, Delivery) else await _send(services, policy, claimed)
    if delivery.state in ("sent", "delivered") and await services.db.run(_record_sent, services, policy, row_id,
                                                                         delivery):
        return delivery.state  # the common case, in one statement (as ``record_delivery`` would write it)
    return await in_transaction(services, record_delivery, policy, row_id, delivery, settings)


def _record_sent(services: Services, policy: SendPolicy[Any], row_id: int, delivery: Delivery) -> bool:
    """The provider took the row: record it by one statement committed on its own when the policy
    can (``SendPolicy.record_sent``: nothing is queued or published for it); else False."""
    with services.db.statement_session() as session:
        work = Work(session=session, now=services.clock.now())
        recorded = policy.record_sent(work, row_id, delivery)
        assert not (work.jobs or work.events), "record_sent queues nothing"
        return recorded


async def _send(services: Services, policy: SendPolicy[Any], claimed: Claimed[Any]) -> Delivery:
    notifier = services.notifiers.get(claimed.channel)
    if notifier is None:
        return policy.without_notifier(claimed.channel)
    earlier = await _earlier_send(services, policy, notifier, claimed) if claimed.interrupted else None
    try:
        async with renewed_claim(services, policy.model, claimed.row_id, policy.sending):
            return earlier or await policy.send(notifier, claimed.notice)
    except CannotRender as exc:  # retrying cannot help: fail over now
        log.exception("%s %s cannot be worded for %s", policy.kind, claimed.row_id, claimed.channel)
        return Delivery("failed", error=f"render: {exc}"[:300])
    except Exception as exc:  # a notifier bug must not lose the row: retry, then fall back
        log.exception("notifier %s failed on %s %s", claimed.channel, policy.kind, claimed.row_id)
        return Delivery("retry", error=f"{type(exc).__name__}: {exc}"[:300])


async def _earlier_send(
    services: Services, policy: SendPolicy[Any], notifier: Notifier, claimed: Claimed[Any]
) -> Delivery | None:
    """After an interrupted send: the provider's record of it, or None to send (again; counted as
    possibly sent twice when the provider cannot tell)."""
    try:
        found = await policy.find(notifier, claimed.notice, claimed.created_at)
    except LookupError:
        found = None  # this channel cannot be asked
    except Exception:
        log.warning("%s %s: could not ask %s about the interrupted send", policy.kind, claimed.row_id,
                    claimed.channel, exc_info=True)
        found = None
    else:
        if found is not None:
            log.info("%s %s: the interrupted send had gone out (%s); not sending it again", policy.kind,
                     claimed.row_id, found.provider_message_id)
            return found
        return None
    await in_transaction(services, record_possible_duplicate, policy.kind, claimed.row_id, claimed.channel)
    return None


def record_delivery(work: Work, policy: SendPolicy[Any], row_id: int, delivery: Delivery, settings: Settings) -> str:
    """What the provider said about a send: sent, retry later, or failed (then the kind's fall-back)."""
    row = policy.get(work.session, row_id)
    assert row is not None
    row.attempts += 1
    row.error = delivery.error
    if delivery.provider_message_id:
        row.provider_message_id = delivery.provider_message_id
    policy.noted(row, delivery)
    lifecycle = policy.lifecycle
    if row.status != policy.sending:
        policy.settled(work, row)
        return f"already {row.status}"  # acknowledged, expired or cancelled meanwhile, or a callback was first
    if delivery.state in ("sent", "delivered"):
        moved = lifecycle.move(row, lifecycle.statuses(delivery.state), work.now)
        policy.settled(work, row)
        return str(moved)
    if delivery.state == "retry" and row.attempts < settings.jobs.max_delivery_attempts:
        delay = backoff(row.attempts, delivery.retry_after)
        lifecycle.move(row, lifecycle.statuses(policy.waiting), work.now)
        return policy.retry_later(work, row, delay, settings)
    lifecycle.move(row, lifecycle.statuses("failed"), work.now)
    policy.failed(work, row, delivery)
    policy.settled(work, row)
    return "failed"


def retry_at(work: Work, row: Any, delay: float, job: str, key: str, **args: Any) -> str:
    """The plain retry: the row's next attempt ``delay`` seconds from now, with its job then."""
    row.next_attempt_at = work.now + timedelta(seconds=delay)
    work.job(job, f"{key}:{row.id}:{row.attempts}", row.next_attempt_at, **args)
    return f"retry in {delay:.0f}s"


def apply_provider_status(
    work: Work, policies: tuple[SendPolicy[Any], ...], provider_message_id: str, status: str, rank: int, seq: int,
    error: str | None,
) -> str:
    """One provider status callback, for whichever kind of row the provider's id names. Callbacks
    arrive out of order: a row keeps the sequence of the newest it applied, older news is stale."""
    for policy in policies:
        row = policy.by_provider_message_id(work.session, provider_message_id)
        if row is None:
            continue
        if seq <= policy.provider_seq(row):
            return "stale"
        return policy.provider_news(work, row, status, rank, seq, error)
    return "unknown message"

"""One door for the department loop's and extensions' staff actions, whatever the channel: a parsed
:class:`~gridline.routing.loop_grammar.LoopText` about a case, done by a staff member, in the
caller's transaction (SMS texts, Telegram commands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridline.kernel.work import Work
from gridline.routing import extensions, transfers
from gridline.routing.action_result import ActionResult
from gridline.routing.loop_grammar import LoopText
from gridline.storage.models import Case, Page, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services


def act_on_loop(
    work: Work, services: Services, staff: Staff, case: Case, page: Page | None, loop: LoopText
) -> ActionResult:
    """Do what the loop text asks, in this transaction; ``page``: the page it answers, if any."""
    case_id, staff_id, actor = case.id or 0, staff.id or 0, transfers.Actor.of_staff(staff)
    page_id = page.id if page is not None and page.staff_id == staff.id else None
    channel = loop.channel or ("sms" if page is None or page.channel in ("sms", "voice") else page.channel)
    verb, rest = loop.verb, loop.rest
    if verb == "transfer":
        return transfers.request(work, services, case_id, actor, note=rest, channel=channel)
    if verb == "accept":
        return transfers.accept(work, services, case_id, staff_id, channel=channel, page_id=page_id)
    if verb == "reply":
        return transfers.reply(work, services, case_id, staff_id, rest, channel=channel)
    if verb == "return":
        reason, note = loop.first_and_rest()
        return transfers.return_(work, services, case_id, staff_id, reason or None, note=note, channel=channel)
    if verb in ("approve", "reject"):
        return transfers.review(work, services, case_id, actor, approve=verb == "approve", note=rest, channel=channel)
    if verb == "extend":
        first, tail = loop.first_and_rest()
        amount_given = extensions.parse_amount(first, services.settings) is not None or first.isdigit()
        amount, reason = (first, tail) if amount_given else (None, rest)
        return extensions.request(work, services, case_id, actor, amount=amount, reason=reason, channel=channel)
    return extensions.decide(work, services, case_id, actor, approve=verb == "grant", note=rest, channel=channel)



"""A staff member's words on a case: relayed to everyone who reported it (回复), or kept as an
internal note on its log. Both are allowed to the same people as the other staff actions
(``routing.who_may_act``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridline.domain.lifecycle import StaffRole
from gridline.i18n import DEFAULT_LANGUAGE
from gridline.i18n.phrases import Phrase
from gridline.kernel.notify import said
from gridline.kernel.outbox import tell_reporters
from gridline.kernel.work import Work, in_transaction
from gridline.routing.action_result import ActionResult
from gridline.routing.timeline import record_event
from gridline.routing.who_may_act import may_act
from gridline.storage import cases
from gridline.storage.models import Message, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services


async def relay_staff_reply(services: Services, case_id: int, staff_id: int, text: str, channel: str) -> int:
    """A staff member's words about a case, logged on it and relayed to everyone who reported it — who
    opened it and each neighbour whose report joined it: they follow the case, as they hear its
    news. How many were told (0: not theirs to speak for, or nobody reachable)."""
    return await in_transaction(services, relay_reply, services, case_id, staff_id, text, channel)


def relay_reply(work: Work, services: Services, case_id: int, staff_id: int, text: str, channel: str) -> int:
    """The body of :func:`relay_staff_reply`."""
    case = cases.get(work.session, case_id)
    staff = work.session.get(Staff, staff_id)
    if case is None or staff is None or not may_act(services, work, case, staff):
        return 0
    work.session.add(
        Message(
            case_id=case.id,
            direction="in",
            channel=channel,
            sender_kind="staff",
            staff_id=staff.id,
            text=text,
            created_at=work.now,
            status="received",
            lang=staff.lang,
        )
    )
    record_event(work, case.id or 0, "staff_reply", f"staff:{staff.code}", {"text": text[:500], "name": staff.name})
    # Who is writing as the resident reads it (网格长, 网格员 …): a member is not a second 网格长.
    known = staff.role in {r.value for r in StaffRole}
    role = Phrase(f"staff_role.{staff.role if known else StaffRole.MEMBER.value}")
    return len(tell_reporters(work, case, "case.leader_says", name=staff.name, role=role, text=text))


async def note_case(services: Services, *, case_id: int, staff_id: int, text: str, channel: str) -> ActionResult:
    """A staff member's internal note on a case (not sent to the resident), allowed to the same people
    as the other staff actions; it appears in the case's timeline."""
    return await in_transaction(services, _note, services, case_id, staff_id, text, channel)


def _note(work: Work, services: Services, case_id: int, staff_id: int, text: str, channel: str) -> ActionResult:
    case = cases.get(work.session, case_id)
    staff = work.session.get(Staff, staff_id)
    if staff is None:
        return ActionResult(False, "not_allowed", said("action.not_allowed", DEFAULT_LANGUAGE))
    if case is None:
        return ActionResult(False, "unknown_case", said("action.unknown_case", staff.lang))
    if not may_act(services, work, case, staff):
        return ActionResult(False, "not_allowed", said("action.not_allowed", staff.lang, ref=case.ref), case.ref)
    record_event(work, case.id or 0, "note", f"staff:{staff.code}",
                 {"text": text[:4000], "channel": channel, "name": staff.name})
    return ActionResult(True, "noted", said("action.noted", staff.lang, ref=case.ref), case.ref, staff.name)

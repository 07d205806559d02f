"""The department loop (条块融合): a grid hands a case to a functional department and reviews its answer.

A leader (Telegram, SMS) or a supervisor (console) **transfers** (转办) a case to a department chosen
from its category, with a note. The department's staff **accept** it (签收) — the department's own
deadline starts there — and a transfer nobody accepts within ``deadlines.transfer_accept_hours``
escalates (a ``transfer_timers`` row): the department's other staff and the supervisors are paged.
The department then **replies** (回单) with the result (and evidence ids), or **returns** it (退单)
with a reason from ``departments.return_reasons`` — back to the grid that sent it, whose leader is
paged with the reason. The grid **reviews** (审核) a reply: approved → the case is resolved by the
department and the resident is asked "解决了吗？" (``routing.closure``); rejected → back to the
department with a note.

A transfer is a state machine (:class:`TransferStatus`, :data:`TRANSFER_TRANSITIONS`) and only
:func:`transition` writes its status: it checks the table, stamps the time, records a typed case
event (``transfer_<status>``) and the audit entry. Refusals are answers, not errors.

The code, by concept: ``transfer_states`` (the lifecycle's one writer), ``transfer_parties`` (who
acts, which department, return reasons, refusals), ``transfer_steps`` (request, accept, reply,
return, review), ``transfer_timer`` (the accept deadline's escalation), ``transfer_views`` (what
pages and the console's case page show, and the async doors). This module is their one front door.
"""

from __future__ import annotations

from gridline.domain.transfers import TRANSFER_TRANSITIONS, TransferStatus
from gridline.routing.transfer_parties import (
    Actor,
    departments_for,
    grid_side,
    is_department,
    local_time,
    may_review,
    of_department,
    open_transfer,
    page_people,
    reason_code,
    refuse,
    return_reason_label,
    return_reasons_text,
    transfer_status_label,
)
from gridline.routing.transfer_states import (
    ESCALATED,
    PAGE_REASONS,
    WORKER_ID,
    allowed,
    transition,
)
from gridline.routing.transfer_steps import (
    accept,
    cancel_open,
    reply,
    request,
    return_,
    review,
)
from gridline.routing.transfer_timer import (
    requeue_due,
    run_timer,
    run_transfer_timer,
)
from gridline.routing.transfer_views import (
    LoopPanel,
    TransferView,
    accept_transfer,
    page_params,
    panel,
    reply_transfer,
    return_transfer,
    review_transfer,
    staff_actor,
    transfer_case,
)

__all__ = [
    "ESCALATED",
    "PAGE_REASONS",
    "TRANSFER_TRANSITIONS",
    "WORKER_ID",
    "Actor",
    "LoopPanel",
    "TransferStatus",
    "TransferView",
    "accept",
    "accept_transfer",
    "allowed",
    "cancel_open",
    "departments_for",
    "grid_side",
    "is_department",
    "local_time",
    "may_review",
    "of_department",
    "open_transfer",
    "page_params",
    "page_people",
    "panel",
    "reason_code",
    "refuse",
    "reply",
    "reply_transfer",
    "request",
    "requeue_due",
    "return_",
    "return_reason_label",
    "return_reasons_text",
    "return_transfer",
    "review",
    "review_transfer",
    "run_timer",
    "run_transfer_timer",
    "staff_actor",
    "transfer_case",
    "transfer_status_label",
    "transition",
]

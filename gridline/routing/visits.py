"""走千家: visits to households as obligations that escalate when missed.

Every household on the roster owes a visit (a ``Visit`` row) due at the next occurrence of the
strictest cadence among its tags (``visits.cadence``: RFC 5545 rules), assigned to a member of its
grid (or the leader). A visit is a durable timer: at its deadline a job claims the row with one
conditional UPDATE and, if nobody logged it, marks it missed and notifies the one who owes it; each
later step notifies the next people (leader, level-2 contact …) with the household's history, just
as a page escalates. Logging it (SMS, Telegram button, a key on a reminder call, the console)
closes it and plans the next one; a problem found on it becomes a case flagged 主动发现 (``Case.proactive``).

Other time-driven work asks for a visit with :func:`schedule_visit` (a 平安守护 sweep's "no answer").

The code, by concept: ``visit_states`` (the lifecycle and its one writer), ``visit_plans`` (cadence,
who owes it, planning), ``visit_log`` (logging from every channel), ``visit_escalation`` (a missed
visit's steps and notices), ``visit_digests`` (what is owed: digests, lists, the engine's sweep).
This module is their one front door: callers import from ``gridline.routing.visits``.
"""

from __future__ import annotations

from gridline.routing.visit_digests import (
    HouseholdVisits,
    OwedList,
    household_visits,
    owed_for,
    owed_for_inbox,
    owed_list,
    owed_text,
    requeue_due,
    send_digests,
    sweep,
)
from gridline.routing.visit_escalation import (
    HouseholdHistory,
    household_history,
    notify_missed,
    run_timer,
    run_visit_timer,
    tell_staff,
    visit_targets,
)
from gridline.routing.visit_log import (
    Outcome,
    VisitLogged,
    VisitReport,
    answer_visit_button,
    answer_visit_text,
    is_visit_button,
    log_visit,
    parse_button,
    record_visit,
)
from gridline.routing.visit_plans import PLAN_BATCH, assignee_for, next_due, plan_next, plan_visits, schedule_visit
from gridline.routing.visit_states import (
    EVERYONE,
    OPEN_VISIT_STATUSES,
    VISIT,
    VISIT_TRANSITIONS,
    VisitStatus,
    check_visit_transition,
    transition,
)

__all__ = [
    "EVERYONE", "OPEN_VISIT_STATUSES", "PLAN_BATCH", "VISIT", "VISIT_TRANSITIONS", "HouseholdHistory",
    "HouseholdVisits", "Outcome", "OwedList", "VisitLogged", "VisitReport", "VisitStatus", "answer_visit_button",
    "answer_visit_text", "assignee_for", "check_visit_transition", "household_history", "household_visits",
    "is_visit_button", "log_visit", "next_due", "notify_missed", "owed_for", "owed_for_inbox", "owed_list",
    "owed_text", "parse_button", "plan_next", "plan_visits", "record_visit", "requeue_due", "run_timer",
    "run_visit_timer", "schedule_visit", "send_digests", "sweep", "tell_staff", "transition", "visit_targets",
]  # fmt: skip

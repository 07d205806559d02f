"""平安守护: daily (or chosen-day) check-ins whose silence escalates, and the answers to them.

A member who opted in (docs/checkins.md) gets a ``CheckIn`` per local day it is due, planned a day
ahead by the reconciler's sweep (``plan``), each with its first ``CheckInStep`` (``ask``) at their
local time. Steps are durable timers: a job runs each one (``run_checkin_step``), claiming the row
by a conditional UPDATE, and does all of it in one transaction — the question (an outbound message
row, so delivery is durable and never twice), the next step, the status (``checkin_states``).

Silence: ``ask`` → window → ``retry`` → window → ``helper`` → ``on_duty_leader`` → ``family`` →
``close`` (``checkins.chain``); a stage that reaches nobody runs the next at once. A cycle that
closes in silence is ``missed``; ``checkins.missed_cycles_for_case`` missed in a row open an urgent
case at the household's address. "2 需要帮助" opens one at once; "1" closes the check-in.

The code, by concept: ``checkin_questions`` (what is asked, on which channel, and the answers'
option data), ``checkin_plans`` (planning each opted-in member's check-ins), ``checkin_stages`` (the
durable steps of silence: ask, retry, helper, leader, family, close, and the urgent case),
``checkin_answers`` (1 / 2 / 我去看看), ``checkin_measures`` (response rate, time to the door). This
module is their one front door.
"""

from __future__ import annotations

from gridline.routing.checkin_answers import (
    Answered,
    answer,
    waiting_choice,
)
from gridline.routing.checkin_measures import (
    CheckInMeasures,
    checkin_measures,
    door_minutes,
    measures,
)
from gridline.routing.checkin_plans import (
    local_due,
    parse_time,
    plan,
    replan_member,
)
from gridline.routing.checkin_questions import (
    ANSWERS,
    CHANNELS,
    CHOICE_PREFIX,
    WORKER_ID,
    ask_question,
    ask_text,
    choice_data,
    known_reasons,
    member_name,
    parse_choice,
    publish_checkin,
    question_identity,
    question_lane,
    question_options,
    reason_label,
    reason_phrase,
    window_from,
)
from gridline.routing.checkin_stages import (
    open_checkin_case,
    requeue_due_steps,
    run_checkin_step,
    run_step,
    schedule_next,
    stages_of,
)

__all__ = [
    "ANSWERS",
    "CHANNELS",
    "CHOICE_PREFIX",
    "WORKER_ID",
    "Answered",
    "CheckInMeasures",
    "answer",
    "ask_question",
    "ask_text",
    "checkin_measures",
    "choice_data",
    "door_minutes",
    "known_reasons",
    "local_due",
    "measures",
    "member_name",
    "open_checkin_case",
    "parse_choice",
    "parse_time",
    "plan",
    "publish_checkin",
    "question_identity",
    "question_lane",
    "question_options",
    "reason_label",
    "reason_phrase",
    "replan_member",
    "requeue_due_steps",
    "run_checkin_step",
    "run_step",
    "schedule_next",
    "stages_of",
    "waiting_choice",
    "window_from",
]

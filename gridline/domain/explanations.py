"""Why Gridline decided what it decided — as codes and facts, never as sentences.

A case's ``explanation`` is a list of entries ``{"decision": …, "code": …, "params": {…}, …facts}``
(:func:`because`); a page's ``why`` is ``{"code": …, "params": {…}}`` (:func:`why`). Each code is a
:class:`Reason`, rendered in the reader's language by ``gridline.i18n.explanations`` (console,
sandbox), so a supervisor reading English sees English and nothing is stored as prose.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Reason(StrEnum):
    # category
    NLU_SURE = "nlu_sure"  # intent, confidence, threshold
    NLU_UNSURE = "nlu_unsure"  # intent, confidence, threshold, guess: the resident is asked to choose
    NOT_UNDERSTOOD = "not_understood"  # intent, confidence
    DANGER_IN_WORDS = "danger_in_words"  # intent, confidence: the priority rules saw a danger
    COMPLAINT_IN_WORDS = "complaint_in_words"  # intent, confidence: a complaint about staff (nlu.complaints)
    SERVICE_CODE = "service_code"  # service_code, client (Open311)
    CHOSEN_BY_RESIDENT = "chosen_by_resident"  # previous
    RECATEGORISED_BY = "recategorised_by"  # actor, previous
    # priority
    PRIORITY_RULES = "priority_rules"  # rules: "name: cue → priority", …
    PRIORITY_DEFAULT = "priority_default"
    # grid
    ADDRESS_MATCHED = "address_matched"  # how, address
    REGISTERED_GRID = "registered_grid"  # address (may be empty)
    POINT_IN_GRID = "point_in_grid"  # lat, lon, grid
    NO_ADDRESS = "no_address"  # → triage
    GIVEN_AFTER_REPORT = "given_after_report"
    PROCESSING_FAILED = "processing_failed"  # error → triage
    # escalation steps
    STEP_PAGED = "step_paged"  # round, step (the people are listed with their own why)
    NOBODY_FOR = "nobody_for"  # targets
    # whom a step reached (a page's why)
    ON_DUTY = "on_duty"  # grid, at
    BACKUP_ON_DUTY = "backup_on_duty"  # grid, at
    GRID_LEADER = "grid_leader"  # grid
    LEVEL_CONTACT = "level_contact"  # level, grid
    DEPARTMENT_FOR = "department_for"  # category
    SUPERVISOR_ON_DUTY = "supervisor_on_duty"  # grid
    SUPERVISOR_TRIAGE = "supervisor_triage"  # a case with no grid yet: the platform's supervisors
    CHASED = "chased"  # kind (deadline_reminder, deadline_due, overdue), level (0: the holder)
    DECIDES_EXTENSION = "decides_extension"  # the level above decides an extension
    EXTENSION_DECIDED = "extension_decided"  # the holder hears the decision
    TRANSFER_FIRST_CONTACT = "transfer_first_contact"  # department
    TRANSFER_REVIEW = "transfer_review"  # the grid reviews the department's reply
    TRANSFER_RETURNED = "transfer_returned"  # department
    TRANSFER_REJECTED = "transfer_rejected"  # the grid rejected the reply: back to the department
    TRANSFER_NOT_ACCEPTED = "transfer_not_accepted"  # department
    # grid work: cases Gridline opened itself
    FOUND_ON_VISIT = "found_on_visit"  # visit, room, by
    CHECKIN_CASE = "checkin_case"  # checkin, kind, why (help | silence)
    ASKED_FOR_HELP = "asked_for_help"  # a resident on the care list answered "2"
    SILENT_CYCLES = "silent_cycles"  # cycles without an answer
    ROSTER_HOUSEHOLD = "roster_household"  # room


def because(decision: str, code: Reason, /, **facts: Any) -> dict[str, Any]:
    """An explanation entry: the ``decision`` it explains, its reason ``code`` and the facts (the
    sentence's placeholders, also shown as they are in the console)."""
    return {"decision": decision, "code": code.value, "params": facts}


def priority_because(rules: list[str]) -> dict[str, Any]:
    """The priority entry: the rules that fired (``name: cue → priority``), or none (normal)."""
    if rules:
        return because("priority", Reason.PRIORITY_RULES, rules=rules)
    return because("priority", Reason.PRIORITY_DEFAULT)


def why(code: Reason, /, **facts: Any) -> dict[str, Any]:
    """Why one person was paged (kept on the step's timeline entry and the case's explanation)."""
    return {"code": code.value, "params": facts}

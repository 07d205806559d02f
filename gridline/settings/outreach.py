"""Settings of the contact Gridline starts itself: the household roster, visits (走千家), check-ins
and sweeps, and the pacing of bulk messages."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from gridline.settings.cases import EscalationStepSettings


class RosterSettings(BaseModel):
    """The household roster (docs/roster.md)."""

    # Tag codes a household may carry. The built-in ones are named in the catalogue (roster.tag.*);
    # a deployment's own tags are named in ``custom_tags`` (code → {"zh-CN": …, "en": …}).
    tags: list[str] = Field(
        default_factory=lambda: ["elderly_alone", "very_old", "hardship", "disabled", "left_behind_child"]
    )
    custom_tags: dict[str, dict[str, str]] = Field(default_factory=dict)
    # A removed household (moved away, deceased) is purged this many days after its removal.
    retention_days: int = 180


def _default_visit_cadence() -> dict[str, str]:
    # RFC 5545 recurrence rules (python-dateutil's rrulestr), keyed by roster tag code; "default"
    # applies to every household. The strictest rule among a household's tags wins.
    return {
        "elderly_alone": "FREQ=WEEKLY",
        "very_old": "FREQ=WEEKLY;INTERVAL=2",
        "disabled": "FREQ=WEEKLY;INTERVAL=2",
        "hardship": "FREQ=MONTHLY",
        "left_behind_child": "FREQ=MONTHLY",
        "default": "FREQ=MONTHLY;INTERVAL=3",
    }


def _default_visit_escalation() -> list[EscalationStepSettings]:
    step = EscalationStepSettings
    return [
        step(notify=["assignee"], wait_minutes=24 * 60),
        step(notify=["leader"], wait_minutes=24 * 60),
        step(notify=["level2_contact"], wait_minutes=0),
    ]


VISIT_TARGETS = ("assignee", "member", "leader", "level2_contact", "level1_contact")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class VisitSettings(BaseModel):
    """走千家: visits as obligations (docs/visits.md)."""

    enabled: bool = True
    # Tag code (or "default") → RFC 5545 RRULE. The next visit is due at the rule's next occurrence
    # after the last visit (or after the household was first planned), on that day at ``due_time``.
    cadence: dict[str, str] = Field(default_factory=_default_visit_cadence)
    # Local time of day a visit falls due (and is missed after).
    due_time: str = "20:00"
    # The daily SMS digest of what is due, local time; "" = no digest.
    digest_time: str = "08:00"
    # A digest lists visits due within this many days (overdue ones always).
    digest_days_ahead: int = 3
    # A missed visit escalates through these steps (targets: assignee, member, leader,
    # level2_contact, level1_contact), waiting ``wait_minutes`` after each.
    escalation: list[EscalationStepSettings] = Field(default_factory=_default_visit_escalation)
    # The category of a 主动发现 case when the note says nothing the classifier knows.
    finding_category: str = "other"

    @field_validator("cadence")
    @classmethod
    def _rules_parse(cls, value: dict[str, str]) -> dict[str, str]:
        from dateutil.rrule import rrulestr

        for key, rule in value.items():
            try:
                rrulestr(rule, ignoretz=True)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"visits.cadence.{key}: not an RRULE ({rule!r}): {exc}") from None
        return value

    @field_validator("due_time", "digest_time")
    @classmethod
    def _times_parse(cls, value: str) -> str:
        if value and not HHMM_RE.match(value):
            raise ValueError(f"a local time is HH:MM, not {value!r}")
        return value

    @field_validator("escalation")
    @classmethod
    def _targets_known(cls, value: list[EscalationStepSettings]) -> list[EscalationStepSettings]:
        for index, step in enumerate(value):
            unknown = [t for t in step.notify if t not in VISIT_TARGETS]
            if unknown:
                raise ValueError(f"visits.escalation step {index + 1}: unknown target(s) {unknown}")
        return value


ChainStage = Literal["retry", "helper", "on_duty_leader", "family"]
DEFAULT_CHAIN: tuple[ChainStage, ...] = ("retry", "helper", "on_duty_leader", "family")


class CheckinSettings(BaseModel):
    """平安守护 check-ins and sweeps (docs/checkins.md)."""

    # Minutes a question waits for "1"/"2" before the next stage of its silence runs.
    answer_window_minutes: float = 30
    # What silence reaches, in order, each after the window: asked again, the household's helper
    # (微网格长 / neighbour), the on-duty leader, the family contacts (when the household consented).
    chain: list[ChainStage] = Field(default_factory=lambda: list(DEFAULT_CHAIN))
    # Missed cycles in a row (a whole chain in silence) that open an urgent case at the address.
    missed_cycles_for_case: int = 2
    # The category of the cases check-ins open ("2 需要帮助", missed cycles).
    case_category: str = "elderly_care"
    # The local time of a check-in when a member opted in without one.
    default_time: str = "09:00"
    # Sweeps: the reasons a supervisor can pick (codes; named in the catalogue checkins.reason.*
    # or in ``custom_reasons``), and the minutes a sweep's question waits before a visit is due.
    sweep_reasons: list[str] = Field(
        default_factory=lambda: ["cold_wave", "rainstorm", "water_outage", "power_outage"]
    )
    custom_reasons: dict[str, dict[str, str]] = Field(default_factory=dict)
    sweep_window_minutes: float = 120


class PacingSettings(BaseModel):
    """How fast bulk outbound messages (broadcasts, sweeps, check-ins) leave, per sender (docs/broadcasts.md).

    Each sender — a Telegram bot, a Twilio SMS number, a Twilio voice number — is a lane with its own
    rate. Pages and replies to a resident's own message are never paced: they go out at once, beside
    the paced traffic, so the rates are set below the providers' limits to leave them room.
    """

    # Telegram allows a bot about 30 messages a second (and one a second per chat).
    telegram_per_second: float = 25.0
    # Seconds between two bulk messages to one Telegram chat (of any kind), and after a reply or
    # page to it (those never wait).
    telegram_chat_seconds: float = 1.0
    # Twilio sends 1 SMS a second from a long code (more from a short code or a messaging service).
    sms_per_second: float = 1.0
    # Outbound calls Twilio starts a second for the account (1 by default).
    voice_per_second: float = 1.0
    # The web sandbox's "channel".
    web_per_second: float = 50.0
    # A paced message whose send time passed longer ago than this (the workers were down, or busy) is
    # given a new send time in its lane instead of going out at once, so a restart never sends a burst.
    late_seconds: float = 5.0
    # A Telegram chat's own lanes (``chat:…``, ``direct:…``: one row per chat ever paced) idle for
    # longer than this are deleted by the engine's retention module; one in use or ahead never is.
    chat_lane_idle_hours: float = 24.0

    def per_second(self, channel: str) -> float:
        rate = {"telegram": self.telegram_per_second, "sms": self.sms_per_second,
                "voice": self.voice_per_second, "web": self.web_per_second}.get(channel, self.sms_per_second)
        return max(rate, 0.001)

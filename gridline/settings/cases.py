"""Settings of what happens to a case: escalation policies, case handling, deadlines (限时办理),
departments, closure and evidence photos."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

TIME_LIMIT_RE = re.compile(r"^\s*(\d+)\s*(wd|h)\s*$")


class EscalationStepSettings(BaseModel):
    """One step of an escalation policy: whom to notify, then how long to wait for an ack."""

    notify: list[str]
    wait_minutes: float = 5


class EscalationPolicySettings(BaseModel):
    steps: list[EscalationStepSettings]
    repeat: int = 0


COMPLAINT_POLICY = "complaint"


def _default_policies() -> dict[str, EscalationPolicySettings]:
    step = EscalationStepSettings
    return {
        "normal": EscalationPolicySettings(
            steps=[
                step(notify=["on_duty_leader"], wait_minutes=15),
                step(notify=["backup"], wait_minutes=15),
                step(notify=["level2_contact"], wait_minutes=30),
                step(notify=["level1_contact"], wait_minutes=60),
            ],
            repeat=1,
        ),
        "urgent": EscalationPolicySettings(
            steps=[
                step(notify=["on_duty_leader"], wait_minutes=5),
                step(notify=["backup", "department"], wait_minutes=5),
                step(notify=["level2_contact"], wait_minutes=10),
                step(notify=["level1_contact", "supervisors"], wait_minutes=15),
            ],
            repeat=2,
        ),
        "emergency": EscalationPolicySettings(
            steps=[
                step(notify=["on_duty_leader", "backup", "level2_contact", "supervisors"], wait_minutes=2),
                step(notify=["level1_contact", "department"], wait_minutes=3),
            ],
            repeat=3,
        ),
        # A complaint about the grid's own people (staff_conduct) goes above them: never to the
        # leader or worker complained about.
        COMPLAINT_POLICY: EscalationPolicySettings(
            steps=[
                step(notify=["level2_contact", "supervisors"], wait_minutes=30),
                step(notify=["level1_contact", "supervisors"], wait_minutes=60),
            ],
            repeat=1,
        ),
    }


def default_policy(name: str) -> EscalationPolicySettings | None:
    """The built-in policy ``name`` (for a configuration whose own policies leave it out)."""
    return _default_policies().get(name)


class CasesSettings(BaseModel):
    duplicate_window_minutes: int = 120
    # A resident asked to pick a category has this long before the case is paged with the best guess.
    choice_timeout_minutes: float = 5
    # A report nobody can place (no address in it, the sender not registered) waits this long for the
    # address the resident is asked for before the supervisors are paged to place it (an emergency
    # never waits): most residents answer within a minute, and the case then goes to its grid.
    address_wait_minutes: float = 3
    # What a resident writes this soon after their last words on an open case is read as more about
    # it (「楼上是302的」, 「我家在三楼」) unless it is an emergency or clearly the same as another
    # case: a detail the model reads as another problem is added, with one reply to split it off.
    follow_up_minutes: float = 30
    # Beyond this many messages a minute from one sender, messages are stored but not answered
    # (a robot or a stuck client); people never get near it.
    max_messages_per_minute: int = 20
    # A sender Gridline cannot place (no grid, no address) has at most this many open triage cases
    # within ``duplicate_window_minutes``; further reports join the latest one instead of paging again.
    max_open_triage_cases_per_sender: int = 1
    # Minutes until a case breaches its SLA, per priority (acknowledgement SLA).
    ack_sla_minutes: dict[str, int] = Field(default_factory=lambda: {"emergency": 5, "urgent": 15, "normal": 60})
    resolve_sla_hours: dict[str, int] = Field(default_factory=lambda: {"emergency": 4, "urgent": 24, "normal": 72})
    escalation: dict[str, EscalationPolicySettings] = Field(default_factory=_default_policies)
    # Categories whose cases follow a policy of their own instead of their priority's (an emergency
    # keeps the emergency policy): a complaint about staff goes above the grid.
    escalation_by_category: dict[str, str] = Field(default_factory=lambda: {"staff_conduct": COMPLAINT_POLICY})
    # Show the leader's personal phone number to residents (off by default: hotline only).
    disclose_leader_phone: bool = False
    hotline_display: str = "12345"


def _default_resolve_limits() -> dict[str, str]:
    # After the 12345 hotlines' norms: help requests in 3 working days, disputes and complaints in
    # 13, questions in 1. "Nwd" counts working days (public holidays and adjusted weekends included),
    # "Nh" plain hours.
    limits = dict.fromkeys(
        (
            "water_supply", "power_supply", "gas_heating", "drainage", "sanitation", "noise",
            "road_facility", "elderly_care", "safety_hazard", "public_order", "elevator",
        ),
        "3wd",
    )
    limits.update(
        property_management="13wd", neighbor_dispute="13wd", illegal_construction="13wd", staff_conduct="13wd"
    )
    limits.update(policy_inquiry="1wd", emergency="4h")
    return limits


class DeadlineSettings(BaseModel):
    """Time limits for resolving a case (限时办理)."""

    # "cn": the Chinese public-holiday calendar with its adjusted working weekends; "weekdays": Mon–Fri.
    calendar: Literal["cn", "weekdays"] = "cn"
    # Per category; a category missing here uses ``cases.resolve_sla_hours`` of its priority.
    resolve: dict[str, str] = Field(default_factory=_default_resolve_limits)
    # Per priority, replacing the category's limit: emergencies are counted in hours, not working days.
    resolve_by_priority: dict[str, str] = Field(default_factory=lambda: {"emergency": "4h", "urgent": "24h"})
    # 催办: the holder is reminded this long before the deadline (and again when it passes).
    remind_before_hours: float = 24.0
    # 督办: an overdue case goes to the level-2 contact at once, to level 1 this long after.
    level1_after_hours: float = 24.0
    # A transfer to a department nobody has accepted (签收) after this many hours (on the clock)
    # escalates: the department's other staff and the supervisors are paged (docs/departments.md).
    transfer_accept_hours: float = 2.0
    # An extension (延期) asked for without saying how long: this much after the current deadline.
    extension_default: str = "2wd"
    # The longest extension one request may ask for.
    extension_max: str = "10wd"

    @field_validator("resolve", "resolve_by_priority")
    @classmethod
    def _limits_parse(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not TIME_LIMIT_RE.match(text):
                raise ValueError(f"{key}: a time limit is 'Nwd' (working days) or 'Nh' (hours), not {text!r}")
        return value

    @field_validator("extension_default", "extension_max")
    @classmethod
    def _limit_parses(cls, value: str) -> str:
        if not TIME_LIMIT_RE.match(value):
            raise ValueError(f"a time limit is 'Nwd' (working days) or 'Nh' (hours), not {value!r}")
        return value


class DepartmentSettings(BaseModel):
    """The department loop (条块融合, docs/departments.md)."""

    # Category → the department name (as in the staff directory) a transfer goes to first; a
    # category not listed goes to the departments whose staff handle it (their ``categories``).
    by_category: dict[str, str] = Field(default_factory=dict)
    # Why a department may send a transfer back (退单), in the order staff see them; each code is
    # named in the catalogue (``transfer.return_reason.<code>``), else shown as written.
    return_reasons: list[str] = Field(
        default_factory=lambda: ["not_our_duty", "wrong_category", "insufficient_info", "outside_area", "duplicate"]
    )

    @field_validator("return_reasons")
    @classmethod
    def _some_reasons(cls, value: list[str]) -> list[str]:
        if not value or any(not code.strip() or ":" in code for code in value):
            raise ValueError("return_reasons: at least one code, none empty, no ':'")
        return value


class ClosureSettings(BaseModel):
    """Closure the resident confirms (docs/deadlines.md)."""

    # A resident who has not answered "解决了吗？" is reminded once after this long, and a 回访
    # (follow-up call) task is created this long after the reminder.
    confirm_wait_hours: float = 24.0
    # A rating at or below this creates a 回访 task too.
    low_rating: int = 2


class EvidenceSettings(BaseModel):
    """Photos of the fix (docs/evidence.md): where they are kept, how big they may be."""

    # "local" (a folder, ``path``) or "s3" (an S3-compatible store: AWS S3, MinIO, Ceph...).
    store: Literal["local", "s3"] = "local"
    path: str = "var/evidence"
    # Largest photo accepted, in bytes; bigger ones are refused with an answer and not stored.
    max_bytes: int = 10_000_000
    # Open311 ``media_url`` links are signed and work this long (they need no login).
    media_url_minutes: int = 60
    # The S3 store (``store = "s3"``): endpoint of the S3 REST API, bucket, region and keys.
    # Path-style addressing (``{endpoint}/{bucket}/{key}``), which S3-compatible stores all speak.
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_prefix: str = "evidence/"

"""Settings: a TOML file (``GRIDLINE_CONFIG``, default ``config/gridline.toml``) overridden by
environment variables ``GRIDLINE_<SECTION>__<KEY>``.

The shape of the TOML file is a public contract: keys may be added, never renamed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from gridline.i18n import Language

DEFAULT_CONFIG = Path("config/gridline.toml")
TIME_LIMIT_RE = re.compile(r"^\s*(\d+)\s*(wd|h)\s*$")


class ServerSettings(BaseModel):
    public_base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_json: bool = False
    log_level: str = "INFO"
    # How long a thread may hold Python's GIL while another waits for it (``sys.setswitchinterval``),
    # set by each ``gridline serve`` process; 0 keeps Python's 5 ms. The event loop answers the
    # webhooks while database threads run units of work: each time it wakes it may wait this long
    # for them (docs/performance.md, "serve's event loop").
    switch_interval_ms: float = 1.0
    # ``gc.freeze`` of what a started ``gridline serve`` / ``gridline worker`` process holds (the NLU
    # model, the address index, the libraries: ~400,000 objects, a 0.25 s full collection). Off by
    # default: it cut the event-loop stalls of a webhook flood (p99 254–350 → 43–84 ms) but raised the
    # CPU of a report (12.7 → 15.9–18.6 ms at 60/s embedded): Python then runs a full collection of
    # the objects made since on every tenth middle one (docs/performance.md, "Eighth session").
    freeze_heap: bool = False
    # Secret used to sign console session cookies and link codes; must be set in production.
    secret_key: str = "change-me-in-production"


class DatabaseSettings(BaseModel):
    url: str = "sqlite:///var/gridline.db"
    echo: bool = False
    # Units of work run in this many worker threads (never on the event loop); the pool matches it.
    threads: int = 12
    # PostgreSQL gives up waiting for a row lock after this long instead of waiting for good.
    lock_timeout_ms: int = 5000


class RedisSettings(BaseModel):
    url: str = ""  # empty = embedded, no Redis
    # Prefix of every key, channel, queue and job id: several deployments (or test runs) can share a Redis.
    namespace: str = "gridline"
    # How long a conversation's state (a question Gridline asked) lives; it is kept in the database.
    state_ttl_seconds: int = 1800
    # No longer read: the inbox recognises a repeated webhook by its unique key in the database (one
    # INSERT … ON CONFLICT DO NOTHING). Kept so that existing configuration files stay valid.
    idempotency_ttl_seconds: int = 86400
    # Every Redis call gives up after this long; the first failure opens a breaker, and while it is
    # open callers use their fallbacks at once and a probe pings Redis every 0.5 s … 5 s until it answers.
    timeout_seconds: float = 0.5
    breaker_min_seconds: float = 0.5
    breaker_max_seconds: float = 5.0


class NluSettings(BaseModel):
    engine: Literal["embedded", "rasa"] = "embedded"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    rasa_timeout_seconds: float = 2.0
    model_dir: str = "var/models"
    training_data: str = "config/nlu/train.yml"
    # Below this confidence the resident is asked to choose among the top categories.
    confidence_threshold: float = 0.45
    # After this many consecutive Rasa failures the circuit opens for ``breaker_reset_seconds``.
    breaker_failures: int = 3
    breaker_reset_seconds: float = 30.0


class TelegramBotSettings(BaseModel):
    token: str = ""
    secret_token: str = ""
    api_base_url: str = "https://api.telegram.org"
    framework: Literal["ptb", "aiogram"] = "ptb"
    # Which audience the bot serves; one bot may serve both.
    audience: Literal["residents", "staff", "both"] = "both"
    use_polling: bool = False


class TelegramSettings(BaseModel):
    bots: dict[str, TelegramBotSettings] = Field(default_factory=dict)


class TwilioSettings(BaseModel):
    account_sid: str = ""
    auth_token: str = ""
    previous_auth_token: str = ""
    sms_number: str = ""
    voice_number: str = ""
    api_base_url: str = "https://api.twilio.com"
    default_region: str = "CN"
    say_language: str = "zh-CN"
    say_voice: str = "Polly.Zhiyu"
    speech_language: str = "cmn-Hans-CN"
    dial_timeout_seconds: int = 20
    max_auto_replies_per_hour: int = 10
    # A voice turn that takes longer than this answers "请稍候" and redirects, so a call never hangs.
    voice_answer_within_seconds: float = 4.0


class EscalationStepSettings(BaseModel):
    """One step of an escalation policy: whom to notify, then how long to wait for an ack."""

    notify: list[str]
    wait_minutes: float = 5


class EscalationPolicySettings(BaseModel):
    steps: list[EscalationStepSettings]
    repeat: int = 0


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
    }


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
    limits.update(property_management="13wd", neighbor_dispute="13wd", illegal_construction="13wd")
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


class JobsSettings(BaseModel):
    poll_seconds: float = 1.0
    reconcile_seconds: float = 10.0
    # Embedded: while a flood of webhooks is being stored, the in-process scheduler starts the
    # processing of stored messages one at a time, each after a pause in the flood or after this
    # long at most (so processing never stops; pages and escalation steps never wait).
    ingest_hold_back_seconds: float = 0.2
    # A claimed step or inbound event whose worker vanished is retried after this lease.
    lease_seconds: float = 60.0
    # A send's claim (page, outbox message) lasts this long and is renewed every third of it while
    # the provider call runs: a dead worker's sends are retried (after asking the provider) within it.
    # Keep it above the providers' own timeouts (10 s), so an abandoned call has ended by then.
    send_lease_seconds: float = 15.0
    max_delivery_attempts: int = 5
    # How often a worker on PostgreSQL looks for deferred jobs that came due. New jobs wake it at once
    # (LISTEN/NOTIFY); this bounds how late a timer (an escalation step, a retry) can start.
    queue_poll_seconds: float = 0.2
    # The workers' reconciler (a safety net) re-queues only rows overdue by more than this: younger
    # ones have the job their own transaction inserted.
    reconcile_grace_seconds: float = 20.0
    # Jobs one worker process runs at once (they mostly wait on providers).
    concurrency: int = 10
    # On SIGTERM a worker stops taking jobs and gives running ones this long before it cancels them
    # (a cancelled delivery gives its claim back); the process exits within ``shutdown_grace_seconds`` + 3.
    shutdown_grace_seconds: float = 5.0
    # Worker heartbeats in PostgreSQL; a worker silent for three of them is presumed dead and its
    # jobs go back to the queue.
    heartbeat_seconds: float = 5.0
    # ``gridline serve`` on PostgreSQL runs jobs too (a single-machine deployment without
    # ``gridline worker``). On SQLite it always does.
    run_in_serve: bool = False


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


class Open311Settings(BaseModel):
    """Open311 GeoReport v2 API. Reading is public (no resident text is exposed); posting needs a key."""

    enabled: bool = True
    api_keys: list[str] = Field(default_factory=list)
    jurisdiction_id: str = "zhengzhou.gridline"


class LimitsSettings(BaseModel):
    """Limits applied before any work: body sizes, JSON depth, request rates (docs/operations.md)."""

    # Largest request body, in bytes; bigger ones are answered 413 before they are read whole.
    body_bytes: int = 1_000_000
    # A Twilio form has a few dozen short fields; a Telegram update is a few kilobytes.
    twilio_body_bytes: int = 64 * 1024
    telegram_body_bytes: int = 1_000_000
    # Deepest nesting of a JSON body (real payloads nest under ten levels).
    json_depth: int = 32
    # Request rates, in the ``limits`` library's notation ("N per second|minute|hour|day", ";" for several).
    # Counted in Redis when [redis] url is set (shared by every process), in memory otherwise and
    # whenever Redis cannot be reached: a Redis outage never blocks anyone.
    login_per_ip: str = "60 per minute; 600 per hour"
    login_per_account: str = "30 per minute"
    open311_post_per_ip: str = "30 per minute"
    open311_post_per_key: str = "300 per minute"
    sandbox_per_ip: str = "120 per minute"


class ConsoleSettings(BaseModel):
    retention_days: int = 0  # 0 = keep message text forever
    session_hours: int = 12
    # Cookies carry ``Secure``: None (the default) = whenever server.public_base_url is https.
    cookie_secure: bool | None = None


class InboxSettings(BaseModel):
    """The staff web inbox (``/console/inbox``): sign-in links and web push."""

    # A one-time sign-in link sent on a staff member's own channel works this long, once.
    link_minutes: int = 15
    # At most this many links per staff member per hour (each one is a message on their phone).
    links_per_hour: int = 5
    # VAPID (RFC 8292) key pair for web push: the private key as base64url (raw 32 bytes) or PEM.
    # Empty = no push (the inbox still works; pages are there when the page is opened).
    # `gridline inbox vapid-keys` prints a new pair.
    vapid_private_key: str = ""
    # Who runs this server, for push services that need to reach the operator ("mailto:" or https URL).
    vapid_subject: str = "mailto:ops@example.org"
    # How long a push service keeps a push for a browser that is offline.
    push_ttl_seconds: int = 3600


class SandboxSettings(BaseModel):
    """The web sandbox (``/sandbox``): chat as any resident, answer as any staff member, no login.

    Only for demos and local trials: it is mounted by ``gridline serve --demo`` or with ``enabled``;
    ``enabled`` is refused when ``server.public_base_url`` is not a loopback or private address,
    unless ``allow_public`` says so on purpose.
    """

    enabled: bool = False
    allow_public: bool = False


class Settings(BaseSettings):
    """All of Gridline's settings. Use :func:`load_settings` to build one."""

    model_config = SettingsConfigDict(
        env_prefix="GRIDLINE_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    timezone: str = "Asia/Shanghai"
    # The language of people whose own is unknown (and of the command line).
    default_language: Language = Language.ZH_CN
    server: ServerSettings = Field(default_factory=ServerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    nlu: NluSettings = Field(default_factory=NluSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    cases: CasesSettings = Field(default_factory=CasesSettings)
    deadlines: DeadlineSettings = Field(default_factory=DeadlineSettings)
    roster: RosterSettings = Field(default_factory=RosterSettings)
    visits: VisitSettings = Field(default_factory=VisitSettings)


    checkins: CheckinSettings = Field(default_factory=CheckinSettings)
    closure: ClosureSettings = Field(default_factory=ClosureSettings)
    departments: DepartmentSettings = Field(default_factory=DepartmentSettings)
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    pacing: PacingSettings = Field(default_factory=PacingSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    open311: Open311Settings = Field(default_factory=Open311Settings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    inbox: InboxSettings = Field(default_factory=InboxSettings)

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies are marked ``Secure`` (``console.cookie_secure``, else an https public URL)."""
        if self.console.cookie_secure is not None:
            return self.console.cookie_secure
        return self.server.public_base_url.lower().startswith("https://")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def _config_path() -> Path | None:
    explicit = os.environ.get("GRIDLINE_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"GRIDLINE_CONFIG points at {path}, which does not exist")
        return path
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the TOML file and the environment; keyword overrides win (tests use them)."""
    return Settings(**overrides)

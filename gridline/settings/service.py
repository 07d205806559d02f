"""Settings of the running service: its server, database, Redis, NLU, channels (Telegram, Twilio,
Open311), job queue, input limits and screens (console, staff inbox, sandbox)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


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

"""Settings: a TOML file (``GRIDLINE_CONFIG``, default ``config/gridline.toml``) overridden by
environment variables ``GRIDLINE_<SECTION>__<KEY>``.

The shape of the TOML file is a public contract: keys may be added, never renamed.

The sections live by concept — ``settings.service`` (server, stores, NLU, channels, jobs, limits,
screens), ``settings.cases`` (escalation, cases, deadlines, departments, closure, evidence) and
``settings.outreach`` (roster, visits, check-ins, pacing) — and are all importable from here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from gridline.i18n import Language
from gridline.settings.cases import (
    TIME_LIMIT_RE,
    CasesSettings,
    ClosureSettings,
    DeadlineSettings,
    DepartmentSettings,
    EscalationPolicySettings,
    EscalationStepSettings,
    EvidenceSettings,
)
from gridline.settings.outreach import (
    CheckinSettings,
    PacingSettings,
    RosterSettings,
    VisitSettings,
)
from gridline.settings.service import (
    ConsoleSettings,
    DatabaseSettings,
    InboxSettings,
    JobsSettings,
    LimitsSettings,
    NluSettings,
    Open311Settings,
    RedisSettings,
    SandboxSettings,
    ServerSettings,
    TelegramBotSettings,
    TelegramSettings,
    TwilioSettings,
)

__all__ = [
    "DEFAULT_CONFIG", "TIME_LIMIT_RE", "CasesSettings", "CheckinSettings", "ClosureSettings", "ConsoleSettings",
    "DatabaseSettings", "DeadlineSettings", "DepartmentSettings", "EscalationPolicySettings",
    "EscalationStepSettings", "EvidenceSettings", "InboxSettings", "JobsSettings", "LimitsSettings",
    "NluSettings", "Open311Settings", "PacingSettings", "RedisSettings", "RosterSettings", "SandboxSettings",
    "ServerSettings", "Settings", "TelegramBotSettings", "TelegramSettings", "TwilioSettings", "VisitSettings",
    "load_settings",
]

DEFAULT_CONFIG = Path("config/gridline.toml")


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

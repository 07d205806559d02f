"""The configured bots: each a runtime (library), a button signer and the flows, plus start-up.

At start-up each bot calls ``getMe``; then either ``setWebhook`` with its secret (when
``server.public_base_url`` is reachable from the internet) or, with ``use_polling``, long polling
for local development. Updates from either path go through the same durable inbox.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from gridline.bots.telegram.callbacks import CallbackSigner, derive_key
from gridline.bots.telegram.context import BotContext
from gridline.bots.telegram.flows import TelegramFlows
from gridline.bots.telegram.inputs import TelegramInput
from gridline.bots.telegram.polling import UpdatePoller
from gridline.bots.telegram.runtime import BotRuntime, RuntimeFactory, TelegramSendError, build_runtime
from gridline.settings import TelegramBotSettings

if TYPE_CHECKING:
    from gridline.kernel.services import Services
    from gridline.storage.models import InboundEvent

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/telegram/{bot_name}"
PROVIDER_PREFIX = "telegram"


@dataclass
class TelegramBot:
    name: str
    settings: TelegramBotSettings
    runtime: BotRuntime
    signer: CallbackSigner
    flows: TelegramFlows

    def serves(self, audience: str) -> bool:
        return self.settings.audience in (audience, "both")


class TelegramBots:
    """All bots of this process, by name."""

    def __init__(self, services: Services, runtime_factory: RuntimeFactory = build_runtime) -> None:
        self.services = services
        self._bots: dict[str, TelegramBot] = {}
        self._pollers: list[UpdatePoller] = []
        for name, config in services.settings.telegram.bots.items():
            self._bots[name] = self._build(name, config, runtime_factory)

    def _build(self, name: str, config: TelegramBotSettings, factory: RuntimeFactory) -> TelegramBot:
        holder: list[TelegramFlows] = []

        async def on_input(event: TelegramInput) -> None:
            await holder[0].handle(event)

        runtime = factory(name, config, on_input)
        key = derive_key(config.token, config.secret_token, self.services.settings.server.secret_key)
        signer = CallbackSigner(key)
        flows = TelegramFlows(BotContext(self.services, name, runtime, signer))
        holder.append(flows)
        return TelegramBot(name=name, settings=config, runtime=runtime, signer=signer, flows=flows)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._bots.values())

    def __len__(self) -> int:
        return len(self._bots)

    def get(self, name: str) -> TelegramBot | None:
        return self._bots.get(name)

    def for_notice(self, name: str, *, audience: str) -> TelegramBot | None:
        """The bot a notice names; an empty name means the first bot serving that audience."""
        if name:
            return self._bots.get(name)
        return next((bot for bot in self._bots.values() if bot.serves(audience)), None)

    async def process_event(self, services: Services, event: InboundEvent) -> None:
        """The inbound processor for ``telegram:<bot>`` events stored by the webhook or the poller."""
        _, _, name = event.provider.partition(":")
        bot = self._bots.get(name)
        if bot is None:
            # Configuration changed since the update was stored; retrying cannot help.
            log.error("update %s for unknown bot %r dropped", event.event_key, name)
            return
        await bot.runtime.process_update(event.payload)

    async def start(self) -> None:
        """Start-up: ``getMe``, then ``setWebhook`` or long polling. A Telegram outage is logged, not fatal."""
        public = is_public_url(self.services.settings.server.public_base_url)
        for bot in self._bots.values():
            if bot.settings.use_polling:
                poller = UpdatePoller(self.services, bot.name, bot.runtime)
                poller.start()  # it deletes any webhook first and retries on its own
                self._pollers.append(poller)
                continue
            try:
                await bot.runtime.start()
                if public:
                    await bot.runtime.set_webhook(self.webhook_url(bot.name), bot.settings.secret_token)
                else:
                    log.warning(
                        "telegram bot %r: public_base_url is not public and use_polling is off; "
                        "it can send but will receive nothing",
                        bot.name,
                    )
            except TelegramSendError as exc:
                log.error("telegram bot %r could not start (%s); sending is retried per message", bot.name, exc)

    async def close(self) -> None:
        for poller in self._pollers:
            await poller.stop()
        self._pollers.clear()
        for bot in self._bots.values():
            await bot.runtime.stop()

    def webhook_url(self, bot_name: str) -> str:
        base = self.services.settings.server.public_base_url.rstrip("/")
        return base + WEBHOOK_PATH.format(bot_name=bot_name)


def is_public_url(url: str) -> bool:
    """Whether Telegram could reach ``url``: not loopback, not unspecified, not ``localhost``."""
    host = (urlsplit(url).hostname or "").lower()
    if not host or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    return not (address.is_loopback or address.is_unspecified or address.is_private or address.is_link_local)

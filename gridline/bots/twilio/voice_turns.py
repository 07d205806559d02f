"""Voice must answer with TwiML right away, and a call must never go silent.

Each step of a call (an answer to a ``<Gather>``, a dial result, a voicemail) is stored in the inbox
once, keyed ``CallSid:step``, and its TwiML is worked out by a task. If the task takes longer than
``answer_within`` seconds, the caller hears "one moment" and Twilio is redirected to
``/voice/wait``, which picks the answer up (several times if needed, then apologises). The TwiML of
a finished step is kept in the state store, so Twilio retrying the same request gets the same answer
without the core running twice.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from gridline.bots.twilio import twiml
from gridline.bots.twilio.hotlines import text_us_goodbye
from gridline.core.inbox import receive_event
from gridline.i18n import t

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

DEFAULT_ANSWER_WITHIN_SECONDS = 4.0
# Twilio waits 15 s for a webhook; each "one moment" gives the core another answer_within seconds.
MAX_WAITS = 5
RESULT_TTL_SECONDS = 900


def _result_key(key: str) -> str:
    return f"twilio:voice:twiml:{key}"


class VoiceTurns:
    """The TwiML-producing tasks of calls in progress, in this process."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._tasks: dict[str, asyncio.Task[str]] = {}
        configured = getattr(services.settings.twilio, "voice_answer_within_seconds", None)
        # How long a caller waits for the core before hearing "please wait" (tests lower it).
        self.answer_within = float(configured if configured is not None else DEFAULT_ANSWER_WITHIN_SECONDS)
        # How long the redirect after "please wait" waits for the same answer.
        self.resume_within = self.answer_within

    async def answer(
        self, key: str, payload: dict[str, Any], lang: str, make: Callable[[], Awaitable[str]]
    ) -> str:
        """Store the step (once), run ``make`` (once) and answer within the time limit."""
        _, is_new = await receive_event(self.services, "twilio:voice", key, payload)
        cached = await self.services.state.get(_result_key(key))
        if cached is not None:
            return str(cached["twiml"])
        task = self._tasks.get(key)
        if task is None:
            if not is_new:
                # A retry of a step whose answer is gone (another process, or it expired): don't run
                # the core twice for one utterance; send the caller back to the menu.
                return self._lost(lang)
            task = asyncio.create_task(self._run(key, lang, make))
            self._tasks[key] = task
        return await self._wait(key, task, lang, attempt=1, within=self.answer_within)

    async def resume(self, key: str, lang: str, attempt: int) -> str:
        """``/voice/wait``: the answer of a slow step, or another "one moment"."""
        cached = await self.services.state.get(_result_key(key))
        if cached is not None:
            return str(cached["twiml"])
        task = self._tasks.get(key)
        if task is None:
            return self._lost(lang)
        return await self._wait(key, task, lang, attempt=attempt + 1, within=self.resume_within)

    async def _run(self, key: str, lang: str, make: Callable[[], Awaitable[str]]) -> str:
        try:
            result = await make()
        except Exception:
            log.exception("voice step %s failed", key)
            settings = self.services.settings
            result = twiml.goodbye(settings, lang, [text_us_goodbye(settings, "twilio.voice.failed", lang)])
        await self.services.state.set(_result_key(key), {"twiml": result}, RESULT_TTL_SECONDS)
        self._tasks.pop(key, None)
        return result

    async def _wait(self, key: str, task: asyncio.Task[str], lang: str, *, attempt: int, within: float) -> str:
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout=within)
        except TimeoutError:
            pass
        settings = self.services.settings
        if attempt > MAX_WAITS:
            log.warning("voice step %s still running after %d waits; letting the caller go", key, MAX_WAITS)
            return twiml.goodbye(settings, lang, [t("twilio.voice.busy_goodbye", lang)])
        then = twiml.webhook_url(settings, "/voice/wait", key=key, n=attempt)
        return twiml.please_wait(settings, lang, t("twilio.voice.please_wait", lang), then=then)

    def _lost(self, lang: str) -> str:
        settings = self.services.settings
        step = secrets.token_hex(4)
        return twiml.prompt(
            settings,
            lang,
            [t("twilio.voice.anything_else", lang)],
            action=twiml.webhook_url(settings, "/voice/turn", n=1, s=step),
            on_silence=twiml.webhook_url(settings, "/voice/turn", n=1, s=step, quiet=1),
        )

    async def aclose(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        self._tasks.clear()

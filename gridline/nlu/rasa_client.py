"""The Rasa engine: Gridline's client for a Rasa 3.6 server, with the embedded engine as fallback.

Rasa runs as a separate server (``scripts/rasa-serve.sh``; it cannot share Gridline's environment).
Each parse is one ``POST {rasa_url}/model/parse?token=...`` bounded by ``nlu.rasa_timeout_seconds``.
A resident's message must never wait on a broken NLU server, so every failure — refused connection,
timeout, HTTP error, unreadable answer — returns the fallback engine's result instead, with a warning
in the log and ``note = "fallback: rasa <reason>"`` on the result.

A circuit breaker stops paying the timeout on every message while Rasa is down: after
``nlu.breaker_failures`` consecutive failures the circuit opens and calls go straight to the fallback
for ``nlu.breaker_reset_seconds``; then one trial call is let through (half-open) and its outcome
closes or re-opens the circuit.

Training and running the server live in :mod:`gridline.nlu.rasa_runtime`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx

from gridline.clock import Clock, SystemClock
from gridline.nlu.text import has_content, normalise_keep_offsets
from gridline.nlu.types import OUT_OF_SCOPE, Entity, NluEngine, NluResult
from gridline.settings import Settings

log = logging.getLogger(__name__)

ENGINE_NAME = "rasa"
# Rasa's transformer cost grows with the square of the length (10,000 characters take seconds):
# the problem is stated at the start, so only this prefix is sent. Offsets stay valid for the full text.
MAX_RASA_CHARS = 600


def without_overlaps(entities: list[Entity]) -> list[Entity]:
    """One entity per stretch of text, the longest, in text order.

    Rasa's RegexEntityExtractor reports every pattern that matches: a lookup-table entry and the
    generic address regex both find 桐柏路199号院, and a room regex may match inside an address.
    The embedded engine resolves overlaps the same way, so both engines give one answer per span.
    """
    chosen: list[Entity] = []
    for ent in sorted(entities, key=lambda e: (-(e.end - e.start), e.start)):
        if all(ent.end <= kept.start or ent.start >= kept.end for kept in chosen):
            chosen.append(ent)
    return sorted(chosen, key=lambda e: e.start)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts consecutive failures; open for ``reset_after`` once ``max_failures`` is reached.

    Half-open lets exactly one trial call through; callers that arrive while it is in flight are
    refused as if the circuit were open.
    """

    def __init__(self, max_failures: int, reset_after: timedelta, clock: Clock) -> None:
        self.max_failures = max(1, max_failures)
        self.reset_after = reset_after
        self.clock = clock
        self.failures = 0
        self.opened_at: datetime | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if self.clock.now() - self.opened_at >= self.reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """May a call go to Rasa now? (Claims the single trial call when half-open.)"""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def release_trial(self) -> None:
        """Give up a claimed trial call without a verdict (the call was cancelled)."""
        self._trial_in_flight = False

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self.failures += 1
        was_trial = self._trial_in_flight
        self._trial_in_flight = False
        if was_trial or self.failures >= self.max_failures:
            self.opened_at = self.clock.now()


class RasaUnavailable(Exception):
    """Rasa did not give a usable answer; ``reason`` ends up in the result's note."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RasaStatus:
    """What ``GET /status`` says about the loaded model."""

    model_file: str
    model_id: str


class RasaEngine:
    """``NluEngine`` backed by a Rasa server; falls back to ``fallback`` (normally the embedded engine)."""

    name = ENGINE_NAME

    def __init__(
        self,
        settings: Settings,
        fallback: NluEngine,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        nlu = settings.nlu
        self.url = nlu.rasa_url.rstrip("/")
        self.token = nlu.rasa_token
        self.timeout = nlu.rasa_timeout_seconds
        self.fallback = fallback
        self.breaker = CircuitBreaker(
            nlu.breaker_failures, timedelta(seconds=nlu.breaker_reset_seconds), clock or SystemClock()
        )
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._model_version: str | None = None

    # -- the NluEngine protocol -------------------------------------------------------------------

    async def parse(self, text: str) -> NluResult:
        """Rasa's result for ``text``, or the fallback's (with a note saying why) when Rasa fails."""
        text = text if isinstance(text, str) else str(text or "")
        if not has_content(text):
            # Rasa would still pick an intent for "😀😀" with a confident-looking score.
            return self._not_understood(text)
        if not self.breaker.allow():
            return await self._fall_back(text, f"circuit open after {self.breaker.failures} failures")
        try:
            data = await self._post_parse(normalise_keep_offsets(text)[:MAX_RASA_CHARS])
        except RasaUnavailable as exc:
            self.breaker.record_failure()
            self._model_version = None  # the server may come back with another model
            return await self._fall_back(text, exc.reason)
        except BaseException:
            # Cancelled mid-call: no verdict on Rasa, but a claimed trial must not block the circuit.
            self.breaker.release_trial()
            raise
        self.breaker.record_success()
        version = await self.model_version()
        result = NluResult.from_rasa(data, engine=ENGINE_NAME, model_version=version)
        return dataclasses.replace(result, text=text, entities=without_overlaps(result.entities))

    # -- talking to Rasa --------------------------------------------------------------------------

    async def model_version(self) -> str:
        """The loaded model's file name from ``GET /status`` (cached; empty when Rasa won't say)."""
        if self._model_version is None:
            try:
                status = await self.status()
            except RasaUnavailable as exc:
                log.info("rasa /status unavailable (%s); model version left empty", exc.reason)
                return ""
            self._model_version = status.model_file
        return self._model_version

    async def status(self) -> RasaStatus:
        """Ask the server which model it has loaded."""
        data = await self._request("GET", "/status")
        return RasaStatus(model_file=str(data.get("model_file") or ""), model_id=str(data.get("model_id") or ""))

    async def _post_parse(self, text: str) -> dict[str, Any]:
        data = await self._request("POST", "/model/parse", json={"text": text})
        if not isinstance(data.get("intent"), dict | None):
            raise RasaUnavailable("answer without an intent")
        return data

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        params = {"token": self.token} if self.token else {}
        try:
            # httpx's timeout bounds each read; wait_for bounds the whole exchange (a server that
            # trickles bytes would otherwise hold the resident's message hostage).
            response = await asyncio.wait_for(
                self._http().request(method, self.url + path, params=params, **kwargs), self.timeout
            )
        except (TimeoutError, httpx.TimeoutException):
            raise RasaUnavailable(f"timeout after {self.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"unreachable ({type(exc).__name__})") from None
        except Exception as exc:  # e.g. a malformed rasa_url: still never the resident's problem
            raise RasaUnavailable(f"request failed ({type(exc).__name__}: {exc})") from None
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code} from {path}")
        try:
            data = response.json()
        except ValueError:
            raise RasaUnavailable(f"unreadable answer from {path}") from None
        if not isinstance(data, dict):
            raise RasaUnavailable(f"unexpected answer from {path}")
        return data

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, transport=self._transport)
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- results that do not come from Rasa -------------------------------------------------------

    async def _fall_back(self, text: str, reason: str) -> NluResult:
        log.warning("rasa NLU unavailable at %s (%s); using the %s engine", self.url, reason, self.fallback.name)
        result = await self.fallback.parse(text)
        note = f"fallback: rasa {reason}"
        if result.note:
            note = f"{note}; {result.note}"
        return dataclasses.replace(result, note=note)

    def _not_understood(self, text: str) -> NluResult:
        return NluResult(
            text=text,
            intent=OUT_OF_SCOPE,
            confidence=0.0,
            engine=ENGINE_NAME,
            model_version=self._model_version or "",
            note="not_understood:no_words",
        )


# Training and serving are re-exported so that callers need one import for everything Rasa.
from gridline.nlu.rasa_runtime import RasaServer, RasaSetupError, train_rasa  # noqa: E402

__all__ = ["CircuitBreaker", "RasaEngine", "RasaServer", "RasaSetupError", "train_rasa"]

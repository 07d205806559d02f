"""When Rasa is down, slow or failing, residents still get classified: by the embedded engine.

These tests need no Rasa: a closed port plays "Rasa is down" and :class:`FakeRasa` (a real local
HTTP server) plays a slow or failing Rasa. The fallback is the real embedded engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest

from gridline.clock import FakeClock
from gridline.nlu.embedded import EmbeddedEngine
from gridline.nlu.rasa_client import MAX_RASA_CHARS, BreakerState, RasaEngine
from gridline.nlu.rasa_runtime import free_port
from gridline.nlu.types import OUT_OF_SCOPE
from gridline.settings import NluSettings, Settings, load_settings
from tests.nlu.fake_rasa import MODEL_FILE, FakeRasa

NO_WATER = "俺们楼从昨天就没水了咋弄"
TIMEOUT = 0.3
RESET = 30.0


@pytest.fixture
def embedded(engine: EmbeddedEngine) -> EmbeddedEngine:
    """The embedded engine of tests/nlu/conftest.py (trained once per session)."""
    return engine


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa().start()
    yield fake
    fake.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def rasa_settings(url: str, token: str = "fake-token", failures: int = 3, timeout: float = TIMEOUT) -> Settings:
    return load_settings(
        nlu=NluSettings(
            engine="rasa",
            rasa_url=url,
            rasa_token=token,
            rasa_timeout_seconds=timeout,
            breaker_failures=failures,
            breaker_reset_seconds=RESET,
        )
    )


def engine_for(url: str, embedded: EmbeddedEngine, clock: FakeClock, **kwargs: object) -> RasaEngine:
    return RasaEngine(rasa_settings(url, **kwargs), fallback=embedded, clock=clock)  # type: ignore[arg-type]


async def test_rasa_down_gives_the_embedded_result_with_a_note_and_a_warning(
    embedded: EmbeddedEngine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine = engine_for(f"http://127.0.0.1:{free_port()}", embedded, clock)
    with caplog.at_level(logging.WARNING, logger="gridline.nlu.rasa_client"):
        result = await engine.parse(NO_WATER)
    await engine.aclose()

    assert result.engine == "embedded"
    assert result.intent == "water_supply"
    assert result.model_version == embedded.version
    assert result.note is not None and result.note.startswith("fallback: rasa unreachable")
    assert any("rasa NLU unavailable" in r.getMessage() and "embedded" in r.getMessage() for r in caplog.records)


async def test_a_healthy_rasa_answers_itself(embedded: EmbeddedEngine, clock: FakeClock, fake_rasa: FakeRasa) -> None:
    engine = engine_for(fake_rasa.url, embedded, clock)
    result = await engine.parse(NO_WATER)
    await engine.aclose()

    assert (result.engine, result.intent, result.note) == ("rasa", "water_supply", None)
    assert result.model_version == MODEL_FILE
    assert result.text == NO_WATER
    # Like the embedded engine's, the ranking lists intents; the reject class is a verdict, not one.
    assert [s.name for s in result.ranking] == ["water_supply", "drainage"]


async def test_slow_rasa_falls_back_after_the_timeout(
    embedded: EmbeddedEngine, clock: FakeClock, fake_rasa: FakeRasa
) -> None:
    fake_rasa.behaviour = "slow"
    engine = engine_for(fake_rasa.url, embedded, clock)
    result = await engine.parse(NO_WATER)
    await engine.aclose()

    assert result.engine == "embedded"
    assert result.intent == "water_supply"
    assert result.note == f"fallback: rasa timeout after {TIMEOUT:g}s"
    assert fake_rasa.parse_requests() == 1


@pytest.mark.parametrize(
    ("behaviour", "token", "reason"),
    [("error", "fake-token", "HTTP 500"), ("answer", "wrong-token", "HTTP 401")],
)
async def test_rasa_http_errors_fall_back(
    embedded: EmbeddedEngine, clock: FakeClock, fake_rasa: FakeRasa, behaviour: str, token: str, reason: str
) -> None:
    fake_rasa.behaviour = behaviour  # type: ignore[assignment]
    engine = engine_for(fake_rasa.url, embedded, clock, token=token)
    result = await engine.parse(NO_WATER)
    await engine.aclose()

    assert result.engine == "embedded"
    assert result.note is not None and result.note.startswith(f"fallback: rasa {reason}")


async def test_the_breaker_opens_after_n_failures_and_stops_calling_rasa(
    embedded: EmbeddedEngine, clock: FakeClock, fake_rasa: FakeRasa
) -> None:
    fake_rasa.behaviour = "slow"
    engine = engine_for(fake_rasa.url, embedded, clock, failures=3)
    notes = [(await engine.parse(NO_WATER)).note for _ in range(6)]
    await engine.aclose()

    assert fake_rasa.parse_requests() == 3
    assert engine.breaker.state is BreakerState.OPEN
    assert notes[:3] == [f"fallback: rasa timeout after {TIMEOUT:g}s"] * 3
    assert notes[3:] == ["fallback: rasa circuit open after 3 failures"] * 3


async def test_the_breaker_half_opens_after_the_reset_and_reopens_when_the_trial_fails(
    embedded: EmbeddedEngine, clock: FakeClock, fake_rasa: FakeRasa
) -> None:
    fake_rasa.behaviour = "slow"
    engine = engine_for(fake_rasa.url, embedded, clock, failures=2)
    for _ in range(3):
        await engine.parse(NO_WATER)
    assert fake_rasa.parse_requests() == 2

    clock.advance(timedelta(seconds=RESET - 1))
    await engine.parse(NO_WATER)
    assert fake_rasa.parse_requests() == 2, "still open before the reset time"

    clock.advance(timedelta(seconds=1))
    assert engine.breaker.state is BreakerState.HALF_OPEN
    trial = await engine.parse(NO_WATER)
    assert fake_rasa.parse_requests() == 3, "one trial call after the reset time"
    assert trial.engine == "embedded"

    after = await engine.parse(NO_WATER)
    await engine.aclose()
    assert fake_rasa.parse_requests() == 3, "a failed trial re-opens the circuit at once"
    assert after.note is not None and "circuit open" in after.note


async def test_the_breaker_closes_when_rasa_recovers(
    embedded: EmbeddedEngine, clock: FakeClock, fake_rasa: FakeRasa
) -> None:
    fake_rasa.behaviour = "error"
    engine = engine_for(fake_rasa.url, embedded, clock, failures=1)
    await engine.parse(NO_WATER)
    assert engine.breaker.state is BreakerState.OPEN

    fake_rasa.behaviour = "answer"
    clock.advance(timedelta(seconds=RESET))
    recovered = [await engine.parse(NO_WATER) for _ in range(2)]
    await engine.aclose()

    assert [r.engine for r in recovered] == ["rasa", "rasa"]
    assert engine.breaker.state is BreakerState.CLOSED
    assert fake_rasa.parse_requests() == 3


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "\x00\x07\x1b"])
async def test_text_without_words_is_not_understood_without_asking_rasa(
    embedded: EmbeddedEngine, clock: FakeClock, fake_rasa: FakeRasa, text: str
) -> None:
    engine = engine_for(fake_rasa.url, embedded, clock)
    result = await engine.parse(text)
    await engine.aclose()

    assert (result.intent, result.confidence, result.engine) == (OUT_OF_SCOPE, 0.0, "rasa")
    assert result.note == "not_understood:no_words"
    assert fake_rasa.parse_requests() == 0


async def test_long_text_is_cut_before_it_reaches_rasa(
    embedded: EmbeddedEngine, clock: FakeClock, fake_rasa: FakeRasa
) -> None:
    engine = engine_for(fake_rasa.url, embedded, clock)
    text = "停水" * 5000
    result = await engine.parse(text)
    await engine.aclose()

    assert result.engine == "rasa"
    assert fake_rasa.texts == [text[:MAX_RASA_CHARS]]
    assert result.text == text, "the result keeps the resident's whole text"


async def test_overlapping_rasa_entities_keep_the_longest_per_span(
    embedded: EmbeddedEngine, clock: FakeClock, fake_rasa: FakeRasa
) -> None:
    text = "俺住桐柏路199号院3号楼停水了"

    def regex_entity(name: str, value: str) -> dict[str, object]:
        start = text.index(value)
        return {
            "entity": name,
            "value": value,
            "start": start,
            "end": start + len(value),
            "extractor": "RegexEntityExtractor",
        }

    # What Rasa reports when a lookup entry, the generic address regex and a number regex all match.
    fake_rasa.entities = [
        regex_entity("address", "桐柏路199号院"),
        regex_entity("address", "桐柏路199号院"),
        regex_entity("address", "桐柏路199号"),
        regex_entity("building", "3号楼"),
        regex_entity("room", "199"),
    ]
    engine = engine_for(fake_rasa.url, embedded, clock)
    result = await engine.parse(text)
    await engine.aclose()

    assert [(e.entity, e.value, e.start, e.end) for e in result.entities] == [
        ("address", "桐柏路199号院", 2, 10),
        ("building", "3号楼", 10, 13),
    ]


async def test_a_malformed_rasa_url_falls_back_instead_of_raising(embedded: EmbeddedEngine, clock: FakeClock) -> None:
    engine = engine_for("not a url", embedded, clock)
    result = await engine.parse(NO_WATER)
    await engine.aclose()

    assert result.engine == "embedded"
    assert result.note is not None and result.note.startswith("fallback: rasa")


async def test_a_cancelled_trial_call_does_not_keep_the_circuit_open(
    embedded: EmbeddedEngine, clock: FakeClock, fake_rasa: FakeRasa
) -> None:
    fake_rasa.behaviour = "error"
    # A long timeout: the trial must still be waiting for Rasa when it is cancelled.
    engine = engine_for(fake_rasa.url, embedded, clock, failures=1, timeout=30.0)
    await engine.parse(NO_WATER)
    fake_rasa.behaviour = "slow"
    clock.advance(timedelta(seconds=RESET))

    trial = asyncio.create_task(engine.parse(NO_WATER))
    while fake_rasa.parse_requests() < 2:  # the trial has reached Rasa
        await asyncio.sleep(0.01)
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial

    fake_rasa.behaviour = "answer"
    result = await engine.parse(NO_WATER)
    await engine.aclose()
    assert result.engine == "rasa", "the next message is the trial"
    assert engine.breaker.state is BreakerState.CLOSED

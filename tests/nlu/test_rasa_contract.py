"""A real Rasa server, trained on config/nlu/train.yml, keeps the contract the embedded engine keeps.

The session fixture trains (or reuses) the model with scripts/rasa-setup.sh, starts
``rasa run --enable-api`` on a free port through scripts/rasa-serve.sh and stops it afterwards.
Locally these tests skip when the Rasa environment is missing; with CI=true they always run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gridline.clock import FakeClock
from gridline.nlu.embedded import EmbeddedEngine
from gridline.nlu.rasa_client import RasaEngine
from gridline.nlu.rasa_runtime import RasaServer
from gridline.nlu.types import ALL_INTENTS, OUT_OF_SCOPE, NluResult
from gridline.settings import NluSettings, load_settings
from tests.nlu.contract import TYPICAL_SENTENCES
from tests.nlu.rasa_fixtures import rasa_model, rasa_server

__all__ = ["rasa_model", "rasa_server"]  # fixtures used by name below

pytestmark = [pytest.mark.rasa, pytest.mark.slow]
# The contract is about answers, not speed: a generous timeout so that a busy CI machine never turns
# a Rasa answer into a fallback (the fallback has its own tests).
TIMEOUT = 30.0


@pytest.fixture
async def rasa(rasa_server: RasaServer, engine: EmbeddedEngine) -> AsyncIterator[RasaEngine]:
    settings = load_settings(
        nlu=NluSettings(
            engine="rasa", rasa_url=rasa_server.url, rasa_token=rasa_server.token, rasa_timeout_seconds=TIMEOUT
        )
    )
    client = RasaEngine(settings, fallback=engine, clock=FakeClock())
    yield client
    await client.aclose()


def answered_by_rasa(result: NluResult, server: RasaServer) -> None:
    assert result.engine == "rasa", result.note
    assert result.model_version == server.model_file
    assert result.model_version.startswith("gridline-nlu-")


@pytest.mark.parametrize(
    ("text", "expected"),
    TYPICAL_SENTENCES,
)
async def test_typical_sentences_get_the_right_intent(
    rasa: RasaEngine, rasa_server: RasaServer, text: str, expected: set[str]
) -> None:
    result = await rasa.parse(text)
    answered_by_rasa(result, rasa_server)
    assert result.intent in expected, result.ranking[:3]
    assert result.note is None


async def test_confidence_and_ranking_are_probabilities(rasa: RasaEngine) -> None:
    result = await rasa.parse("俺们楼从昨天就没水了咋弄")
    assert 0.0 < result.confidence <= 1.0
    assert result.ranking[0].name == result.intent
    confidences = [s.confidence for s in result.ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert all(s.name in ALL_INTENTS for s in result.ranking)


async def test_entities_carry_offsets_into_the_original_text(rasa: RasaEngine, rasa_server: RasaServer) -> None:
    text = "桐柏路199号院3号楼2单元501室，家里停水了"
    result = await rasa.parse(text)
    answered_by_rasa(result, rasa_server)
    found = {(e.entity, e.value) for e in result.entities}
    assert {("address", "桐柏路199号院"), ("building", "3号楼"), ("unit", "2单元"), ("room", "501室")} <= found
    assert len(found) == len(result.entities), "one entity per span"
    for ent in result.entities:
        assert text[ent.start : ent.end] == ent.value
        assert ent.extractor == "RegexEntityExtractor"


async def test_the_result_has_the_rasa_parse_shape(rasa: RasaEngine) -> None:
    shape = (await rasa.parse("颍河路56号院保险丝又烧了")).to_rasa()
    assert set(shape) >= {"text", "intent", "intent_ranking", "entities", "engine", "model_version"}
    assert set(shape["intent"]) == {"name", "confidence"}


async def test_a_wrong_token_is_refused_and_falls_back(rasa_server: RasaServer, engine: EmbeddedEngine) -> None:
    settings = load_settings(
        nlu=NluSettings(rasa_url=rasa_server.url, rasa_token="not-the-token", rasa_timeout_seconds=TIMEOUT)
    )
    client = RasaEngine(settings, fallback=engine, clock=FakeClock())
    result = await client.parse("俺们楼从昨天就没水了咋弄")
    await client.aclose()
    assert result.engine == "embedded"
    assert result.note is not None and result.note.startswith("fallback: rasa HTTP 401")


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "\x00\x07\x1b", "12345678"])
async def test_unusable_text_is_not_understood_rather_than_an_error(rasa: RasaEngine, text: str) -> None:
    result = await rasa.parse(text)
    assert (result.intent, result.confidence, result.engine) == (OUT_OF_SCOPE, 0.0, "rasa")
    assert result.note is not None and result.note.startswith("not_understood")


@pytest.mark.parametrize(
    "text",
    [
        "停水" * 5000,
        "俺家停电了 please help ASAP",
        "电梯坏了\x00\x08了",
        "ｗａｔｅｒ没了，１２３４",
        "qwertyuiop asdfghjkl",
        "\x00\x07\x1b[31m",
    ],
)
async def test_odd_text_still_gives_a_result_from_rasa(rasa: RasaEngine, rasa_server: RasaServer, text: str) -> None:
    result = await rasa.parse(text)
    assert result.engine == "rasa", result.note
    assert result.text == text
    assert result.intent in (*ALL_INTENTS, OUT_OF_SCOPE)
    assert 0.0 <= result.confidence <= 1.0

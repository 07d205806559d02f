"""Which model, trained on which data, classified a message: on the case timeline and in the explanation."""

from __future__ import annotations

import httpx
from sqlmodel import select

import gridline.console  # noqa: F401  (registers the console's tables before the template database is built)
from gridline.app import create_app
from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from gridline.nlu.embedded import DATA_HASH_LENGTH, EmbeddedEngine
from gridline.storage.models import Case
from tests.console.conftest import add_account, login

LI_XIUYING = "+8617000010001"  # demo resident at 桐柏路199号院, registered in grid ZY01-01-1


def test_every_result_carries_the_training_datas_hash(engine: EmbeddedEngine) -> None:
    expected = engine.model.metadata["data_fingerprint"][:DATA_HASH_LENGTH]
    assert len(expected) == DATA_HASH_LENGTH
    for text in ("俺们楼停水了", "😀😀", "你好"):
        result = engine.parse_sync(text)
        assert result.data_hash == expected, text
        assert result.to_rasa()["data_hash"] == expected
    assert type(result).from_rasa(result.to_rasa()).data_hash == expected


async def test_the_case_page_shows_the_data_hash_beside_the_model_version(services) -> None:
    outcome = await handle_inbound(
        services, InboundMessage(channel="sms", external_id=LI_XIUYING, text="俺们楼从昨天就没水了咋弄")
    )
    assert outcome.created_case
    nlu = await services.nlu.parse("俺们楼从昨天就没水了咋弄")
    assert nlu.data_hash and nlu.model_version
    with services.db.session() as session:
        case = session.exec(select(Case).where(Case.ref == outcome.case_ref)).one()
    category = next(e for e in case.explanation if e["decision"] == "category")
    assert (category["model_version"], category["data_hash"]) == (nlu.model_version, nlu.data_hash)

    add_account(services, "admin", "admin")
    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test") as client:
        assert (await login(client, "admin")).status_code == 303
        page = (await client.get(f"/console/cases/{case.id}")).text
    # The message's NLU line on the timeline: engine · version · training data <hash>.
    assert f"{nlu.model_version} · 训练数据 {nlu.data_hash}" in page
    # The routing explanation lists it too.
    assert page.count(nlu.data_hash) >= 2

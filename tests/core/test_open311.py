"""Open311 GeoReport v2: services, filing with an api key, following requests without leaking text."""

from __future__ import annotations

import httpx
import pytest

from gridline.app import create_app


@pytest.fixture
async def client(make_services):
    services = await make_services(open311={"api_keys": ["k-test"]})
    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        http.services = services  # type: ignore[attr-defined]
        yield http


async def test_services_list_every_category(client):
    services = (await client.get("/open311/v2/services.json?lang=en")).json()
    codes = {s["service_code"] for s in services}
    assert {"water_supply", "elevator", "emergency"} <= codes
    assert next(s for s in services if s["service_code"] == "water_supply")["service_name"] == "Water supply"


async def test_filing_needs_a_key_and_a_location(client):
    assert (await client.post("/open311/v2/requests.json", data={"description": "没水了"})).status_code == 403
    response = await client.post("/open311/v2/requests.json", data={"api_key": "k-test", "description": "没水了"})
    assert response.status_code == 400 and "location" in response.json()[0]["description"]
    response = await client.post(
        "/open311/v2/requests.json", data={"api_key": "k-test", "service_code": "nope", "lat": "34.8", "long": "113.55"}
    )
    assert response.status_code == 400


async def test_a_filed_request_is_routed_by_point_and_followed_without_its_text(client, drain):
    response = await client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": "k-test",
            "description": "小区门口的井盖丢了，晚上很危险 电话13800000000",
            "lat": "34.805572",
            "long": "113.537373",
        },
    )
    assert response.status_code == 201, response.text
    ref = response.json()[0]["service_request_id"]
    await drain(client.services)
    detail = (await client.get(f"/open311/v2/requests/{ref}.json")).json()[0]
    assert detail["status"] == "open" and detail["address_id"] == "GX01-01-1"
    assert "13800000000" not in str(detail)  # residents' words and numbers stay private
    listed = (await client.get("/open311/v2/requests.json?status=open")).json()
    assert ref in {r["service_request_id"] for r in listed}
    assert (await client.get("/open311/v2/requests.json?start_date=yesterday")).status_code == 400
    assert (await client.get("/open311/v2/requests/ZZZZZZ.json")).status_code == 404

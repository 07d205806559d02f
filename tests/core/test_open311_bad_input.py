"""Open311 inputs that used to answer 500 (issue 10): a non-ASCII key, dates at the calendar's ends."""

from __future__ import annotations

import httpx
import pytest

from gridline.app import create_app


@pytest.fixture
async def client(make_services):
    services = await make_services(open311={"api_keys": ["k-test"]})
    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http


@pytest.mark.parametrize("key", ["密钥", "k-tést", "k-test\x00"])
async def test_a_non_ascii_api_key_is_refused_not_a_500(client, key: str) -> None:
    response = await client.post("/open311/v2/requests.json", data={"api_key": key, "description": "没水了",
                                                                    "lat": "34.8", "long": "113.55"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        {"start_date": "9999-12-31T23:59:59Z"},
        {"end_date": "0001-01-01T00:00:00Z"},
        {"start_date": "0001-01-01T00:00:00+14:00"},
        {"end_date": "9999-12-31T23:59:59-12:00"},
        {"start_date": "yesterday"},
    ],
)
async def test_dates_at_the_ends_of_the_calendar_are_a_400(client, query: dict[str, str]) -> None:
    response = await client.get("/open311/v2/requests.json", params=query)
    assert response.status_code == 400
    assert "start_date" in response.json()[0]["description"]


async def test_a_start_date_in_range_still_lists(client) -> None:
    response = await client.get("/open311/v2/requests.json", params={"end_date": "2001-01-01T00:00:00Z"})
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize(("lat", "lon"), [("nan", "113.5"), ("34.8", "inf"), ("91", "113.5"), ("34.8", "-181")])
async def test_coordinates_off_the_globe_are_a_400(client, lat: str, lon: str) -> None:
    response = await client.post("/open311/v2/requests.json",
                                 data={"api_key": "k-test", "description": "没水了", "lat": lat, "long": lon})
    assert response.status_code == 400

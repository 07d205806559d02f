"""Console parameters that used to answer 500 (issue 10): huge ids, Unicode digits, far dates."""

from __future__ import annotations

import pytest

from tests.console.conftest import ClientFor, csrf_of

HUGE = str(2**63)
HUGER = "9" * 40

GET_ROUTES = ["/console/cases/{id}", "/console/cases/{id}/row", "/console/conversations/{id}"]
POST_ROUTES = [
    "/console/cases/{id}/recategorise",
    "/console/cases/{id}/reassign",
    "/console/cases/{id}/merge",
    "/console/cases/{id}/note",
    "/console/cases/{id}/close",
    "/console/messages/{id}/correct",
    "/console/reveal/case/{id}",
    "/console/users/{id}/unlock",
]


@pytest.mark.parametrize("big", [HUGE, HUGER, "-1", "0"])
async def test_ids_outside_the_column_are_refused_on_every_id_route(client_for: ClientFor, big: str) -> None:
    admin = await client_for("admin")
    csrf = csrf_of((await admin.get("/console/cases")).text)
    for route in GET_ROUTES:
        response = await admin.get(route.format(id=big))
        assert response.status_code in (404, 422), (route, response.status_code)
    for route in POST_ROUTES:
        response = await admin.post(route.format(id=big), data={"csrf_token": csrf, "text": "x"})
        assert response.status_code in (403, 404, 422), (route, response.status_code)


@pytest.mark.parametrize(
    "query",
    [
        "page=²", "page=①", "page=" + HUGER, "page=-3",
        "from=9999-12-31", "to=9999-12-31", "from=0001-01-01", "to=0001-01-01",
        "from=0001-01-01&to=9999-12-31",
    ],
)
async def test_case_and_conversation_lists_take_odd_pages_and_far_dates(client_for: ClientFor, query: str) -> None:
    admin = await client_for("admin")
    for path in ("/console/cases", "/console/conversations", "/console/audit"):
        response = await admin.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query, response.status_code)


@pytest.mark.parametrize("query", ["days=²", "days=①", "days=" + HUGER, "from=9999-12-31&to=9999-12-31",
                                   "from=0001-01-01&to=0001-01-01", "from=0001-01-01&to=9999-12-31"])
async def test_the_dashboard_takes_odd_days_and_far_dates(client_for: ClientFor, query: str) -> None:
    admin = await client_for("admin")
    response = await admin.get(f"/console/dashboard?{query}")
    assert response.status_code == 200, response.text[:300]

"""Production (no ``--demo``): every route of the app, tried by a stranger without a session, refuses
— and nothing a stranger can read carries a resident's number or words.

The routes are enumerated from the app ``gridline serve``'s factory builds (not listed by hand), so a
new route is tried the day it is added.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage
from tests.web.test_sandbox_exposure import config_file, keep_logging, served_app, sqlite_copy  # noqa: F401

pytestmark = pytest.mark.slow

RESIDENT = "+8617000010001"  # 李秀英 (config/demo/residents.csv)
WORDS = "桐柏路199号院3号楼楼道里有人乱扔烟头差点着火"

# What a stranger may read: health, gauges, the login pages and what a browser needs to show them,
# Open311's public reading, and the front door's redirect.
PUBLIC = {
    ("GET", "/"), ("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/console/login"),
    ("GET", "/console/inbox/login"), ("GET", "/console/inbox/manifest.webmanifest"),
    ("GET", "/console/inbox/sw.js"), ("GET", "/open311/v2/services.json"),
    ("GET", "/open311/v2/requests.json"), ("GET", "/open311/v2/requests/{ref}.json"),
}
# Refusals: to the login page, not signed in, forbidden (CSRF, signature, key), nothing there, a
# one-time link that is not (or no longer) valid.
REFUSED = {303, 401, 403, 404, 405, 410}


def every_route(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path template) of every route the app answers, included routers flattened."""
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)  # FastAPI's included routers
        for leaf in contexts() if contexts is not None else [route]:
            for method in sorted(getattr(leaf, "methods", None) or ()):
                if method != "HEAD":
                    yield method, leaf.path


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_without_demo_no_route_lets_a_stranger_in_or_read_a_resident(
    sqlite_copy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    app = served_app(monkeypatch, config_file(tmp_path, sqlite_copy), demo=False)
    services = app.state.services
    outcome = await handle_inbound(services, InboundMessage(channel="sms", external_id=RESIDENT, text=WORDS))
    assert outcome.created_case
    routes = sorted(set(every_route(app)))
    assert len(routes) > 60, routes  # the console, the inbox, Open311, the webhooks
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gridline.test") as http:
        for method, path in routes:
            response = await http.request(method, concrete(path), data={"x": "1"} if method == "POST" else None)
            body = response.text
            assert RESIDENT[3:] not in body and "烟头" not in body, (method, path, body[:200])
            if (method, path) in PUBLIC:
                continue
            assert response.status_code in REFUSED, (method, path, response.status_code, body[:200])
            if response.status_code == 303:
                assert response.headers["location"].startswith(("/console/login", "/console/inbox/login",
                                                                "/console/cases")), (method, path)
        # The API's own description is not published in production.
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
            assert (await http.get(path)).status_code == 404, path
    await services.aclose()

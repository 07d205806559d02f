"""Rate limits per IP and per account (issue 10): Redis shared by every process when present, memory
otherwise, and memory again when Redis is down — a Redis outage never refuses or breaks a request."""

from __future__ import annotations

import socket

import httpx
import pytest

from gridline.app import create_app
from gridline.edge.ratelimit import RateLimits
from tests.conftest import base_settings

SMALL = {"login_per_ip": "3 per minute", "login_per_account": "2 per minute", "open311_post_per_ip": "4 per minute",
         "open311_post_per_key": "100 per minute", "sandbox_per_ip": "5 per minute"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_memory_limits_count_per_key_and_refuse_beyond_the_limit() -> None:
    limits = RateLimits(base_settings(limits=SMALL))
    verdicts = [(await limits.hit("login_per_ip", "10.0.0.1")).allowed for _ in range(4)]
    assert verdicts == [True, True, True, False]
    assert (await limits.hit("login_per_ip", "10.0.0.2")).allowed  # another address has its own count
    refused = await limits.hit("login_per_ip", "10.0.0.1")
    assert not refused.allowed and 1 <= refused.retry_after <= 61


@pytest.mark.redis
async def test_two_processes_share_one_count_in_redis(make_services) -> None:
    first = await make_services("postgres+redis", limits=SMALL)
    second_settings = first.settings.model_copy()
    one, two = RateLimits(first.settings), RateLimits(second_settings)
    assert (await one.hit("login_per_account", "admin")).allowed
    assert (await two.hit("login_per_account", "admin")).allowed
    assert not (await one.hit("login_per_account", "admin")).allowed  # the third across both processes


async def test_redis_down_falls_back_to_memory_and_still_limits() -> None:
    settings = base_settings(limits=SMALL, redis={"url": f"redis://127.0.0.1:{closed_port()}/0"})
    limits = RateLimits(settings)
    verdicts = [(await limits.hit("login_per_account", "admin")).allowed for _ in range(3)]
    assert verdicts == [True, True, False]


async def test_open311_posts_beyond_the_per_ip_limit_are_429(make_services) -> None:
    services = await make_services(open311={"api_keys": ["k-test"]}, limits=SMALL)
    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        codes = [(await http.post("/open311/v2/requests.json", data={"api_key": "wrong"})).status_code
                 for _ in range(5)]
    assert codes == [403, 403, 403, 403, 429]


async def test_the_sandbox_api_beyond_the_per_ip_limit_is_429(make_services) -> None:
    services = await make_services(limits=SMALL)
    app = create_app(services, run_jobs=False, sandbox=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        codes = [(await http.get("/sandbox/api/residents")).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]


@pytest.mark.parametrize(("limit", "names"), [("login_per_ip", ["a", "b", "c", "d"]),
                                              ("login_per_account", ["admin", "admin", "admin"])])
async def test_console_logins_beyond_a_limit_are_429_with_retry_after(make_services, limit: str,
                                                                      names: list[str]) -> None:
    """docs/operations.md, [limits]: "Over a limit: 429 with Retry-After" — the login page's 429 had none."""
    import gridline.console  # noqa: F401
    from tests.console.conftest import login

    services = await make_services(limits=SMALL)
    app = create_app(services, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        answers = [await login(http, name, "wrong-password-1") for name in names]
    assert [a.status_code for a in answers] == [401] * (len(names) - 1) + [429], limit
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60

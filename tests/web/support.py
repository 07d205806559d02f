"""A resident and a leader using the sandbox through its HTTP endpoints, as the page's script does."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from gridline.kernel.services import Services

API = "/sandbox/api"


@dataclass
class Sandbox:
    """The sandbox page's calls, plus ``drain`` standing in for the scheduler between steps."""

    http: httpx.AsyncClient
    services: Services
    drain_jobs: Callable[[Services], Awaitable[int]]

    async def drain(self) -> None:
        await self.drain_jobs(self.services)

    async def post_message(self, who: dict[str, Any], **fields: Any) -> httpx.Response:
        body = {"event_id": str(uuid.uuid4()), **who, **fields}
        return await self.http.post(f"{API}/messages", json=body)

    async def say(self, who: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """Send one thing as the resident and let the core handle it; returns the chat afterwards."""
        response = await self.post_message(who, **fields)
        assert response.status_code == 202, response.text
        await self.drain()
        return await self.conversation(who)

    async def conversation(self, who: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.get(f"{API}/conversation", params=who)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def resident_id(self, name: str) -> int:
        residents = (await self.http.get(f"{API}/residents")).json()["residents"]
        return next(int(r["id"]) for r in residents if r["name"] == name)

    async def staff_id(self, code: str) -> int:
        staff = (await self.http.get(f"{API}/staff")).json()["staff"]
        return next(int(s["id"]) for s in staff if s["code"] == code)

    async def inbox(self, staff_id: int, lang: str = "zh-CN") -> list[dict[str, Any]]:
        response = await self.http.get(f"{API}/inbox/{staff_id}", params={"lang": lang})
        assert response.status_code == 200, response.text
        return response.json()["pages"]  # type: ignore[no-any-return]

    async def act(self, staff_id: int, page_id: int, action: str, **extra: Any) -> httpx.Response:
        response = await self.http.post(f"{API}/actions",
                                        json={"staff_id": staff_id, "page_id": page_id, "action": action, **extra})
        await self.drain()
        return response

    async def timeline(self, case_id: int, lang: str = "zh-CN") -> dict[str, Any]:
        response = await self.http.get(f"{API}/cases/{case_id}", params={"lang": lang})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


def replies(chat: dict[str, Any]) -> list[dict[str, Any]]:
    """What the hotline said to the resident, oldest first."""
    return [m for m in chat["messages"] if m["direction"] == "out"]

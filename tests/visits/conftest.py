"""The visit tests run with 走千家 on (the suite's base settings turn it off for everyone else)."""

from __future__ import annotations

from typing import Any

import pytest

from gridline.kernel.services import Services
from tests.conftest import MakeServices
from tests.visits.support import VISITS_ON


@pytest.fixture
async def make_services(make_services: MakeServices) -> MakeServices:
    async def factory(backend: str = "sqlite", **overrides: Any) -> Services:
        overrides.setdefault("visits", VISITS_ON)
        return await make_services(backend, **overrides)

    return factory

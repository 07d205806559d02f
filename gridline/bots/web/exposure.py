"""Where the sandbox may be mounted: demos and private networks only.

The sandbox lets anyone chat as any resident and answer as any staff member without logging in —
right for ``gridline serve --demo`` on a laptop, wrong on the internet. Outside ``--demo`` it is
mounted only with ``[sandbox] enabled = true``, which is refused when ``server.public_base_url``
points at a public address unless ``[sandbox] allow_public = true`` says so on purpose.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from gridline.settings import Settings

log = logging.getLogger(__name__)

# Set by ``gridline serve --demo`` for its uvicorn worker processes (not a setting: a demo is a
# way of starting the server, not something a configuration file should be able to switch on).
DEMO_ENV = "GRIDLINE_SERVE_DEMO"


class SandboxRefused(RuntimeError):
    """``[sandbox] enabled`` on a public address without ``allow_public``."""


def is_private_host(host: str | None) -> bool:
    """Loopback, private (RFC 1918, ULA), link-local addresses and ``localhost`` names."""
    if not host:
        return False
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        # A DNS name: nothing tells us it is private, so it counts as public.
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def sandbox_enabled(settings: Settings) -> bool:
    """Whether the settings mount the sandbox (outside ``--demo``); raises :class:`SandboxRefused`."""
    if not settings.sandbox.enabled:
        return False
    base = settings.server.public_base_url
    if not is_private_host(urlsplit(base).hostname) and not settings.sandbox.allow_public:
        raise SandboxRefused(
            f"[sandbox] enabled = true, but server.public_base_url ({base}) is not a loopback or private "
            "address: the sandbox has no login and would let anyone read cases and act as any staff member. "
            "Set [sandbox] allow_public = true only if that is really meant."
        )
    log.warning(
        "!!! THE WEB SANDBOX IS MOUNTED at /sandbox ([sandbox] enabled = true): anyone who reaches %s can "
        "read residents' cases and act as any staff member without logging in. Never do this in production. !!!",
        base,
    )
    return True

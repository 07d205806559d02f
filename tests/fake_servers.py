"""What every fake provider server does alike (the Bot API, Twilio, web push, S3): serve an aiohttp
app on a free port of 127.0.0.1 for the test, and stop it."""

from __future__ import annotations

from aiohttp import web


async def serve_locally(app: web.Application) -> tuple[web.AppRunner, str]:
    """Start ``app`` on a free port of 127.0.0.1; its runner (``await runner.cleanup()`` stops it)
    and its base URL, ``http://127.0.0.1:<port>``."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets  # type: ignore[attr-defined]
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    return runner, f"http://127.0.0.1:{port}"

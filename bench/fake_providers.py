"""A minimal, fast stand-in for the Telegram Bot API and Twilio's REST API, for the benchmarks.

It answers every Bot API method and ``Messages.json`` / ``Calls.json`` at once with a plausible
success and remembers nothing, so the replies Gridline sends while processing a benchmark's load
cost the provider nothing. (The tests use the full fakes in ``tests/telegram`` and ``tests/twilio``,
which record every call; this one is for throughput.) Run it as its own process so that it does not
share an event loop with the load generator:

    .venv/bin/python bench/fake_providers.py --port 19201
"""

from __future__ import annotations

import argparse
import itertools
import time
from typing import Any

from aiohttp import web

ACCOUNT = "/2010-04-01/Accounts/{sid}"
_ids = itertools.count(1)


async def bot_method(request: web.Request) -> web.Response:
    method = request.match_info["method"]
    params: dict[str, Any] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = dict(await request.post())
    result: Any = True
    if method == "getMe":
        result = {"id": 1, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
    elif method in ("sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup"):
        chat = params.get("chat_id", 1)
        result = {"message_id": next(_ids), "date": int(time.time()),
                  "chat": {"id": int(chat) if str(chat).lstrip("-").isdigit() else 1, "type": "private"},
                  "text": str(params.get("text", ""))}
    elif method == "getUpdates":
        result = []
    elif method == "getWebhookInfo":
        result = {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
    return web.json_response({"ok": True, "result": result})


async def twilio_create(request: web.Request) -> web.Response:
    form = await request.post()
    kind = "Messages" if request.path.endswith("Messages.json") else "Calls"
    sid = ("SM" if kind == "Messages" else "CA") + f"{next(_ids):032x}"
    account = request.match_info["sid"]
    return web.json_response({
        "sid": sid, "account_sid": account, "to": str(form.get("To", "")), "from": str(form.get("From", "")),
        "body": str(form.get("Body", "")), "status": "queued", "num_segments": "1",
        "direction": "outbound-api", "api_version": "2010-04-01",
        "uri": f"{ACCOUNT.format(sid=account)}/{kind}/{sid}.json",
    }, status=201)


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", bot_method)
    app.router.add_post(ACCOUNT.format(sid="{sid}") + "/Messages.json", twilio_create)
    app.router.add_post(ACCOUNT.format(sid="{sid}") + "/Calls.json", twilio_create)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=19201)
    args = parser.parse_args()
    web.run_app(make_app(), host="127.0.0.1", port=args.port, access_log=None, print=None)

"""The baselines for ``ingest_bench.py`` and ``report_to_page_bench.py``: bare FastAPI endpoints
that do what the Telegram webhook does *except store the update* — check the secret token, read
and parse the JSON, check the ``update_id``, answer the same small JSON — and what the SMS webhook
does except check the signature and store the text (parse the form, answer empty TwiML).

It is served by uvicorn with the arguments ``gridline serve`` passes (one worker process,
``proxy_headers``, the log level), so the difference to the real webhook is Gridline's own work:

    .venv/bin/python bench/bare_app.py --port 19210 [--log-level warning]
"""

from __future__ import annotations

import argparse
import hmac
import json

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

SECRET = "bench-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def create_bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/webhooks/telegram/{bot_name}")
    async def telegram_webhook(bot_name: str, request: Request) -> JSONResponse:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), SECRET.encode()):
            return JSONResponse({"ok": False, "description": "forbidden"}, status_code=403)
        try:
            update = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return JSONResponse({"ok": False, "description": "not JSON"}, status_code=400)
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return JSONResponse({"ok": False, "description": "not a Telegram update"}, status_code=400)
        return JSONResponse({"ok": True, "description": "stored"}, status_code=200)

    @app.post("/webhooks/twilio/sms")
    async def sms_webhook(request: Request) -> Response:
        # The form parsed as Starlette parses it for the real webhook; no signature, nothing stored.
        form = await request.form()
        if not form.get("MessageSid") or not form.get("From"):
            return Response("missing MessageSid or From", status_code=400)
        return Response('<?xml version="1.0" encoding="UTF-8"?><Response />', media_type="application/xml")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=19210)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    # The same arguments as ``gridline serve`` (gridline/commands/serve.py), with one worker.
    uvicorn.run("bare_app:create_bare_app", factory=True, host="127.0.0.1", port=args.port, workers=1,
                proxy_headers=True, log_level=args.log_level)

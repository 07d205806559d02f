"""What makes the inbox an installable app: the web app manifest and the service worker.

The service worker is served from ``/console/inbox/sw.js`` so that its scope is the inbox; it shows
the notification of a web push and opens (or focuses) the inbox when it is tapped. It caches nothing:
an inbox must never show a stale page as if it were current.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridline.console.http import request_language
from gridline.console.rendering import console_text

router = APIRouter()

STATIC = Path(__file__).resolve().parents[1] / "static"


@router.get("/inbox/manifest.webmanifest")
async def manifest(request: Request) -> Response:
    lang = request_language(request)
    body = {
        "name": console_text("inbox.app_name", lang),
        "short_name": console_text("inbox.title", lang),
        "description": console_text("inbox.description", lang),
        "lang": lang,
        "start_url": "/console/inbox",
        "scope": "/console/inbox",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b3261e",
        "icons": [
            {"src": "/console/static/inbox-icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
        ],
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"cache-control": "no-cache"})


@router.get("/inbox/sw.js")
async def service_worker() -> Response:
    return Response((STATIC / "inbox-sw.js").read_bytes(), media_type="text/javascript",
                    headers={"cache-control": "no-cache", "service-worker-allowed": "/console/inbox"})

"""The sandbox page itself (``GET /sandbox``): one HTML shell, its texts, and the static files.

The page is rendered once per language; everything that changes (chat, inbox, timeline) is fetched
from the JSON API by ``static/sandbox.js``. No inline script runs: the texts the script needs travel
in a ``<script type="application/json">`` block, which the browser never executes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gridline.i18n import catalogue, normalise_language, other_language, t

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_PATH = "/sandbox/static"
UI_PREFIX = "web.ui."

HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def ui_texts(lang: str) -> dict[str, str]:
    """Every ``web.ui.*`` message in ``lang``, keyed without the prefix (for the script)."""
    return {key[len(UI_PREFIX):]: t(key, lang) for key in catalogue() if key.startswith(UI_PREFIX)}


def render_sandbox(lang: str) -> str:
    texts = ui_texts(lang)
    context: dict[str, Any] = {
        "lang": lang, "other_lang": other_language(lang), "ui": texts,
        "static": STATIC_PATH, "texts": texts,
    }
    return _env.get_template("sandbox.html").render(**context)


def build_page_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/sandbox", response_class=HTMLResponse)
    async def sandbox(lang: str | None = Query(default=None, max_length=16)) -> HTMLResponse:
        return HTMLResponse(render_sandbox(normalise_language(lang)), headers=HEADERS)

    return router

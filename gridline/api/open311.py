"""Open311 GeoReport v2 (JSON): other city systems list services, file requests and follow them.

Reading is public and exposes no resident text or identity: a request shows its category, status,
grid and times. Filing a request needs an ``api_key`` from ``[open311] api_keys``.

``media_url`` is the newest evidence photo of the fix (staff's, never the resident's), as a signed
link that works for ``[evidence] media_url_minutes`` (to at most twice that): anyone holding the link
may fetch that one photo until then, nothing else. The photo's EXIF (GPS) was removed when it was
stored; the note that came with it is not exposed (docs/evidence.md).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from gridline.clock import as_utc
from gridline.core.api_requests import ApiRequest, file_api_request
from gridline.domain.lifecycle import OPEN_CASE_STATUSES
from gridline.edge.params import FIRST_TIME, LAST_TIME, RowId, sane_time
from gridline.edge.ratelimit import client_ip, enforce
from gridline.edge.text import clean_text
from gridline.i18n import DEFAULT_LANGUAGE, normalise_language, t
from gridline.kernel.services import Services
from gridline.kernel.work import Work, in_transaction
from gridline.nlu.types import ISSUE_CATEGORIES
from gridline.routing import evidence
from gridline.storage import cases, directory
from gridline.storage import evidence as evidence_rows
from gridline.storage.models import Case, Evidence, Grid

router = APIRouter(prefix="/open311/v2", tags=["open311"])
MAX_RESULTS = 1000


def _error(status: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status)


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _lang(request: Request) -> str:
    return normalise_language(request.query_params.get("lang") or request.headers.get("accept-language"))


@router.get("/services.json")
async def services_list(request: Request) -> JSONResponse:
    lang = _lang(request)
    return JSONResponse(
        [
            {
                "service_code": code,
                "service_name": t(f"category.{code}", lang),
                "description": t(f"category.{code}", lang),
                "metadata": False,
                "type": "realtime",
                "keywords": code.replace("_", ","),
                "group": "grid",
            }
            for code in ISSUE_CATEGORIES
        ]
    )


def _media_url(services: Services, row: Evidence | None, now: datetime) -> str | None:
    """A signed link to the photo, valid until the end of the next ``media_url_minutes`` window
    (the same link for everyone within a window, so it can be cached)."""
    if row is None or row.id is None:
        return None
    window = max(1, services.settings.evidence.media_url_minutes) * 60
    expires = (int(now.timestamp()) // window + 2) * window
    sig = evidence.media_signature(services.settings.server.secret_key, row.id, expires)
    base = services.settings.server.public_base_url.rstrip("/")
    return f"{base}{router.prefix}/media/{row.id}?expires={expires}&sig={sig}"


def _public(case: Case, grid: Grid | None, lang: str, media_url: str | None = None) -> dict[str, Any]:
    return {
        "service_request_id": case.ref,
        "status": "open" if case.status in OPEN_CASE_STATUSES else "closed",
        "status_notes": t(f"case_status.{case.status}", lang),
        "service_name": t(f"category.{case.category}", lang),
        "service_code": case.category,
        "description": t(f"category.{case.category}", lang),  # residents' own words stay private
        "agency_responsible": grid.name if grid else None,
        "service_notice": None,
        "requested_datetime": as_utc(case.created_at).isoformat(),
        "updated_datetime": as_utc(case.updated_at).isoformat(),
        "expected_datetime": as_utc(case.resolve_due_at).isoformat() if case.resolve_due_at else None,
        "address": grid.name if grid else None,
        "address_id": case.grid_code,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": media_url,
    }


def _parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time within the years Gridline can mean; ValueError otherwise (400 to the caller)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    # The year first: converting 0001-01-01+14:00 to UTC overflows before any range check could.
    if not FIRST_TIME.year <= parsed.year <= LAST_TIME.year or not sane_time(as_utc(parsed)):
        raise ValueError(f"{value} is out of range")
    return as_utc(parsed)


def _key_is_valid(key: str, keys: list[str]) -> bool:
    # compare_digest refuses non-ASCII str; bytes compare any key in constant time.
    given = key.encode()
    return bool(key) and any(hmac.compare_digest(given, k.encode()) for k in keys)


@router.get("/requests.json")
async def requests_list(request: Request) -> JSONResponse:
    services = _services(request)
    params = request.query_params
    try:
        start, end = _parse_time(params.get("start_date")), _parse_time(params.get("end_date"))
    except ValueError:
        return _error(400, "start_date and end_date must be ISO 8601 (e.g. 2026-11-26T00:00:00Z)")
    now = services.clock.now()
    end = end or now
    start = start or max(end - timedelta(days=90), FIRST_TIME)
    status = params.get("status")
    if status not in (None, "", "open", "closed"):
        return _error(400, "status must be open or closed")
    ids = params.get("service_request_id") or ""
    refs = [i.strip() for i in ids.split(",") if i.strip()]
    code = params.get("service_code")
    open_values = [s.value for s in OPEN_CASE_STATUSES]
    lang = _lang(request)

    def read(work: Work) -> list[dict[str, Any]]:
        found = cases.for_open311(
            work.session, start=start, end=end, refs=refs, categories=code.split(",") if code else (),
            statuses=open_values if status == "open" else (), not_statuses=open_values if status == "closed" else (),
            limit=MAX_RESULTS,
        )
        grids = directory.grids_by_code(work.session, {c.grid_code for c in found if c.grid_code})
        photos = evidence_rows.latest_for_cases(work.session, [c.id for c in found if c.id is not None])
        return [
            _public(c, grids.get(c.grid_code or ""), lang, _media_url(services, photos.get(c.id or 0), work.now))
            for c in found
        ]

    return JSONResponse(await in_transaction(services, read))


@router.get("/requests/{ref}.json")
async def request_detail(ref: str, request: Request) -> JSONResponse:
    services = _services(request)
    lang = _lang(request)

    def read(work: Work) -> dict[str, Any] | None:
        case = cases.by_ref(work.session, ref.upper())
        if case is None:
            return None
        photo = evidence_rows.latest_for_cases(work.session, [case.id or 0]).get(case.id or 0)
        return _public(case, directory.grid(work.session, case.grid_code), lang, _media_url(services, photo, work.now))

    public = await in_transaction(services, read)
    if public is None:
        return _error(404, f"no service request {ref}")
    return JSONResponse([public])


@router.get("/media/{evidence_id}")
async def media(evidence_id: RowId, request: Request, expires: int = 0, sig: str = "") -> Response:
    """The photo behind a ``media_url``: only with its signature, only until it expires."""
    services = _services(request)
    now_ts = int(services.clock.now().timestamp())
    if not sig or not evidence.signature_valid(services.settings.server.secret_key, evidence_id, expires, sig, now_ts):
        return _error(403, "this media link is not valid or has expired; read the request again for a fresh one")
    row = await in_transaction(services, lambda work: evidence_rows.get(work.session, evidence_id))
    data = await evidence.read_bytes(services, row) if row is not None else None
    if row is None or data is None:
        return _error(404, "no such media")
    return Response(data, media_type=row.content_type, headers={
        "cache-control": f"public, max-age={max(0, min(expires - now_ts, 86400))}",
        "x-content-type-options": "nosniff", "content-disposition": "inline",
    })  # fmt: skip


@router.post("/requests.json")
async def request_create(request: Request) -> JSONResponse:
    services = _services(request)
    await enforce(services, "open311_post_per_ip", client_ip(request))
    try:
        raw = await request.form()
    except Exception:
        return _error(400, "the body must be application/x-www-form-urlencoded or multipart/form-data")
    form: dict[str, str] = {k: clean_text(v) for k, v in raw.multi_items() if isinstance(v, str)}
    key = str(raw.get("api_key") or "")  # compared exactly as sent, never cleaned
    if not _key_is_valid(key, services.settings.open311.api_keys):
        return _error(403, "a valid api_key is required to file requests")
    await enforce(services, "open311_post_per_key", hashlib.sha256(key.encode()).hexdigest()[:16])
    description = str(form.get("description") or "").strip()
    code = str(form.get("service_code") or "").strip() or None
    if code is not None and code not in ISSUE_CATEGORIES:
        return _error(400, f"unknown service_code {code!r}; see services.json")
    if not description and code is None:
        return _error(400, "description or service_code is required")
    try:
        lat = float(form["lat"]) if form.get("lat") else None
        lon = float(form["long"]) if form.get("long") else None
    except ValueError:
        return _error(400, "lat and long must be numbers")
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return _error(400, "lat must be within -90..90 and long within -180..180")
    if (lat is None) != (lon is None):
        return _error(400, "lat and long go together")
    address = str(form.get("address_string") or "").strip() or None
    if lat is None and address is None:
        return _error(400, "a location is required: lat and long, or address_string")
    api_request = ApiRequest(
        description=description[:4000] or t(f"category.{code}", DEFAULT_LANGUAGE),
        service_code=code,
        lat=lat,
        lon=lon,
        address=address,
        phone=str(form.get("phone") or "") or None,
        name=" ".join(str(form.get(k) or "") for k in ("first_name", "last_name")).strip() or None,
    )
    case, created = await file_api_request(services, api_request)
    notice = None if created else t("case.joined", _lang(request), ref=case.ref, count=case.report_count)
    return JSONResponse(
        [{"service_request_id": case.ref, "service_notice": notice, "account_id": None}],
        status_code=201 if created else 200,
    )

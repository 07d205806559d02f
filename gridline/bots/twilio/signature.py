"""Every Twilio webhook is signed: check ``X-Twilio-Signature`` before anything else happens.

The signed URL is the one Twilio called, which behind a proxy is not what the app sees in ``Host``;
it is rebuilt from ``server.public_base_url`` + path (+ query). Both the current and the previous
auth token are accepted so a token can be rotated without dropping webhooks in flight.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from twilio.request_validator import RequestValidator

from gridline.edge.text import clean_text
from gridline.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
# A Twilio form has a few dozen short fields; anything much bigger is not Twilio.
MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 200
# Twilio's sids are 34 characters ("SM" + 32 hex); far longer is not Twilio, and would not fit the
# columns that keep it (cut to the inbox key's 128, a text failed processing later, a call's steps merged).
MAX_SID_LENGTH = 64
SID_FIELDS = ("MessageSid", "SmsSid", "CallSid")


@dataclass(frozen=True)
class SignedForm:
    """The verified form fields of one webhook and the public URL it was signed for."""

    url: str
    fields: dict[str, str]

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)


def public_url(settings: Settings, request: Request) -> str:
    """The URL Twilio called: public base URL + the path and query the app received."""
    url = settings.server.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


def signature_is_valid(settings: Settings, url: str, fields: dict[str, str], signature: str) -> bool:
    """True if ``signature`` was made with the current or the previous auth token."""
    tokens = [settings.twilio.auth_token, settings.twilio.previous_auth_token]
    return any(token and _validator(token).validate(url, fields, signature) for token in tokens)


@functools.lru_cache(maxsize=8)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def decode_form(body: bytes) -> list[tuple[str, str]]:
    """The ``application/x-www-form-urlencoded`` pairs of a capped body, decoded leniently: whatever
    does not decode cleanly cannot match a signature, so it is refused by the check, not here."""
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


class FormRefused(Exception):
    """Not a signed Twilio form: answer ``http_status`` with ``{"detail": detail}``, store nothing."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.http_status = status
        self.detail = detail


def check_signed_form(settings: Settings, url: str, signature: str, body: bytes, content_type: str,
                      path: str) -> SignedForm:
    """The verified fields of a webhook's (capped) ``body`` signed for ``url``, or
    :class:`FormRefused` (403 bad or missing signature, 413 too large, 415 not a form, 400 too many
    fields or a sid far longer than Twilio's). Nothing is stored or changed before this returns. The
    body is only URL-decoded — the least that checking the signature needs; the form parser is never
    run, and nothing else is looked at until the signature holds."""
    if not signature:
        raise FormRefused(403, "missing signature")
    if len(body) > MAX_FORM_BYTES:
        raise FormRefused(413, "form too large")
    if body and not content_type.lower().startswith("application/x-www-form-urlencoded"):  # any case (RFC 9110)
        raise FormRefused(415, "expected a form")
    pairs = decode_form(body)
    fields = dict(pairs)
    if not signature_is_valid(settings, url, fields, signature):
        log.warning("twilio webhook with a bad signature refused: %s", path)
        raise FormRefused(403, "bad signature")
    if len(pairs) > MAX_FIELDS:
        raise FormRefused(400, "too many form fields")
    if any(len(fields.get(name, "")) > MAX_SID_LENGTH for name in SID_FIELDS):
        raise FormRefused(400, "not a Twilio sid")
    # Cleaned only after the check: the signature covers the fields exactly as Twilio sent them.
    return SignedForm(url=url, fields={key: clean_text(value) for key, value in fields.items()})


async def require_signed_form(request: Request) -> None:
    """The voice routes' router dependency: the signature is checked (and the form kept for the
    route) before FastAPI validates the URL's parameters, so an unsigned request is 403 whatever its
    path and query say, never a 422 that describes the route."""
    settings: Settings = request.app.state.services.settings
    request.state.twilio_form = await _signed_form(request, settings)


async def read_signed_form(request: Request, settings: Settings) -> SignedForm:
    """The webhook's form fields, or HTTP 403 (bad signature) / 400 / 413 / 415 (not a Twilio form):
    :func:`check_signed_form` for a FastAPI route (once: :func:`require_signed_form` may have)."""
    form = getattr(request.state, "twilio_form", None)
    if isinstance(form, SignedForm):
        return form
    return await _signed_form(request, settings)


async def _signed_form(request: Request, settings: Settings) -> SignedForm:
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        raise HTTPException(status_code=403, detail="missing signature")
    body = await request.body()
    try:
        return check_signed_form(settings, public_url(settings, request), signature, body,
                                 request.headers.get("content-type", ""), request.url.path)
    except FormRefused as refused:
        raise HTTPException(status_code=refused.http_status, detail=refused.detail) from None

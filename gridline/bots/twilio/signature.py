"""Every Twilio webhook is signed: check ``X-Twilio-Signature`` before anything else happens.

The signed URL is the one Twilio called, which behind a proxy is not what the app sees in ``Host``;
it is rebuilt from ``server.public_base_url`` + path (+ query). Both the current and the previous
auth token are accepted so a token can be rotated without dropping webhooks in flight.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import HTTPException, Request
from twilio.request_validator import RequestValidator

from gridline.edge.text import clean_text
from gridline.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
# A Twilio form has a few dozen short fields; anything much bigger is not Twilio.
MAX_FORM_BYTES = 64 * 1024


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
    return any(token and RequestValidator(token).validate(url, fields, signature) for token in tokens)


async def read_signed_form(request: Request, settings: Settings) -> SignedForm:
    """The webhook's form fields, or HTTP 403 (bad signature) / 400 / 413 (not a Twilio form).

    Nothing is stored or changed before this returns.
    """
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        raise HTTPException(status_code=403, detail="missing signature")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status_code=413, detail="form too large")
    content_type = request.headers.get("content-type", "")
    if body and not content_type.startswith("application/x-www-form-urlencoded"):
        raise HTTPException(status_code=415, detail="expected a form")
    try:
        form = await request.form()
        fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    except Exception as exc:  # a body that is not a form at all
        raise HTTPException(status_code=400, detail="malformed form") from exc
    url = public_url(settings, request)
    if not signature_is_valid(settings, url, fields, signature):
        log.warning("twilio webhook with a bad signature refused: %s", request.url.path)
        raise HTTPException(status_code=403, detail="bad signature")
    # Cleaned only after the check: the signature covers the fields exactly as Twilio sent them.
    return SignedForm(url=url, fields={key: clean_text(value) for key, value in fields.items()})

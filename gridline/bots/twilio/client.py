"""The real twilio-python client, pointed at ``settings.twilio.api_base_url``.

twilio-python always builds ``https://api.twilio.com/...`` URLs; ``region``/``edge`` only rewrite
twilio.com host names. The HTTP client below rewrites scheme and host of every request to the
configured base URL, so production talks to Twilio and tests talk to the local fake
(tests/twilio/fake_twilio.py) through the very same library code.

The library is synchronous (requests); :class:`TwilioGateway` runs its calls in a worker thread so
the event loop never blocks on Twilio.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from gridline.settings import TwilioSettings

log = logging.getLogger(__name__)

# Twilio error codes that mean "this number will never work on this channel" (not worth a retry):
# invalid To, unsubscribed recipient (STOP on Twilio's side), not SMS-capable, blocked, unreachable.
PERMANENT_ERROR_CODES = frozenset({21211, 21217, 21407, 21408, 21610, 21612, 21614, 30003, 30005, 30006})


class BaseUrlHttpClient(TwilioHttpClient):
    """A :class:`TwilioHttpClient` that sends every request to ``base_url`` instead of twilio.com."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"twilio.api_base_url must be an http(s) URL, not {base_url!r}")
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        self._prefix = parts.path

    def rewrite(self, url: str) -> str:
        """``url`` with scheme and host replaced by the configured base URL (path kept)."""
        parts = urlsplit(url)
        return urlunsplit((self._scheme, self._netloc, self._prefix + parts.path, parts.query, ""))

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        return super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def build_client(settings: TwilioSettings) -> Client:
    """A twilio ``Client`` for the configured account, talking to ``api_base_url``."""
    return Client(
        settings.account_sid,
        settings.auth_token,
        http_client=BaseUrlHttpClient(settings.api_base_url),
    )


@dataclass(frozen=True)
class SendResult:
    """What Twilio said about one REST call: a sid, or why not."""

    sid: str | None
    status: str | None = None
    error: str | None = None
    error_code: int | None = None
    # Temporary (rate limit, 5xx, network): worth retrying. Permanent: the number does not work.
    temporary: bool = False
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return self.sid is not None


class TwilioGateway:
    """The two REST calls Gridline makes: send an SMS, start a call."""

    def __init__(self, settings: TwilioSettings, client: Client | None = None) -> None:
        self.settings = settings
        self.client = client or build_client(settings)

    @property
    def configured(self) -> bool:
        return bool(self.settings.account_sid and self.settings.auth_token)

    async def send_sms(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        """``Messages.create`` from the SMS hotline number."""
        kwargs: dict[str, Any] = {"to": to, "from_": self.settings.sms_number, "body": body}
        if status_callback:
            kwargs["status_callback"] = status_callback
        return await self._call(self.client.messages.create, **kwargs)

    async def find_sms(self, to: str, body: str, *, since: datetime) -> str | None:
        """The sid of a text from the hotline number to ``to`` with exactly ``body``, sent since then.

        Asks Twilio's message list (``To``, ``From``, ``DateSent>``); raises when Twilio cannot be
        asked, so the caller knows it does not know.
        """
        messages = await asyncio.to_thread(
            self.client.messages.list, to=to, from_=self.settings.sms_number, date_sent_after=since, limit=50
        )
        for message in messages:
            if message.body == body and message.status not in ("failed", "undelivered", "canceled"):
                return str(message.sid)
        return None

    async def create_call(
        self,
        to: str,
        *,
        url: str,
        status_callback: str,
        machine_detection: bool = True,
        timeout_seconds: int | None = None,
    ) -> SendResult:
        """``Calls.create`` from the voice hotline number; Twilio fetches the TwiML from ``url``."""
        kwargs: dict[str, Any] = {
            "to": to,
            "from_": self.settings.voice_number or self.settings.sms_number,
            "url": url,
            "method": "POST",
            "status_callback": status_callback,
            "status_callback_method": "POST",
            "status_callback_event": ["initiated", "ringing", "answered", "completed"],
        }
        if machine_detection:
            kwargs["machine_detection"] = "Enable"
        if timeout_seconds:
            kwargs["timeout"] = timeout_seconds
        return await self._call(self.client.calls.create, **kwargs)

    async def _call(self, create: Any, **kwargs: Any) -> SendResult:
        try:
            resource = await asyncio.to_thread(create, **kwargs)
        except TwilioRestException as exc:
            temporary = exc.status == 429 or exc.status >= 500
            permanent = not temporary and (exc.code in PERMANENT_ERROR_CODES or exc.status in (400, 404))
            log.warning("twilio refused %s: %s %s %s", create.__qualname__, exc.status, exc.code, exc.msg)
            return SendResult(
                sid=None,
                error=f"twilio {exc.status} {exc.code or ''} {exc.msg}".strip()[:500],
                error_code=exc.code,
                temporary=temporary,
                permanent=permanent,
            )
        except Exception as exc:  # network errors: requests' ConnectionError, timeouts
            log.warning("twilio unreachable for %s: %r", create.__qualname__, exc)
            return SendResult(sid=None, error=f"twilio unreachable: {exc!r}"[:500], temporary=True)
        return SendResult(sid=resource.sid, status=getattr(resource, "status", None))

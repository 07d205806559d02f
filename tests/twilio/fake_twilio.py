"""A fake Twilio: a real HTTP server on 127.0.0.1 that Gridline's twilio-python client talks to.

What it does, like Twilio:
- ``POST /2010-04-01/Accounts/{sid}/Messages.json`` and ``Calls.json`` with basic auth (account sid +
  auth token), answering with Twilio-shaped JSON;
- moves messages through their statuses (queued → sent → delivered, or failed / undelivered when a test
  says so) and calls through theirs (initiated → ringing → in-progress → completed, or busy / no-answer
  / failed, or answered by a machine), posting **signed** status callbacks back to Gridline — in order,
  or out of order when asked;
- fetches the TwiML of answered calls and acts it out (tests/twilio/fake_voice.py);
- delivers a phone's texts and calls to Gridline's webhooks, signed like Twilio.

Status progress is not driven by timers: it happens when the test calls :meth:`FakeTwilio.settle`
(the harness does after each ``drain``), so every script runs the same way every time.

Tests speak through :class:`FakePhone`::

    resident = fake.phone("+8613800000001")
    await resident.text("桐柏路199号院停水了")
    sms = resident.expect_sms("已受理")
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web
from twilio.request_validator import RequestValidator

from tests.fake_servers import serve_locally
from tests.twilio.fake_voice import FakeCall

API = "/2010-04-01/Accounts/{sid}"
MESSAGE_ERROR_CODES = {"failed": "30008", "undelivered": "30003"}


@dataclass
class FakeMessage:
    """One SMS Gridline sent through the REST API."""

    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    status: str = "queued"
    read: bool = False
    callbacks_sent: list[str] = field(default_factory=list)


@dataclass
class Inbound:
    """What Gridline answered to a webhook the fake delivered."""

    status_code: int
    text: str


class FakeTwilio:
    """The fake provider. ``gridline_url`` is where Twilio's console would point the webhooks."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sms_number: str,
        voice_number: str,
        gridline_url: str = "",
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sms_number = sms_number
        self.voice_number = voice_number
        # The token callbacks are signed with (a test may sign with the old one after a rotation).
        self.signing_token = auth_token
        self.gridline_url = gridline_url.rstrip("/")
        self.base_url = ""
        self.messages: list[FakeMessage] = []
        self.calls: list[FakeCall] = []
        self.recordings: list[str] = []
        self.errors: list[str] = []
        self.callback_log: list[tuple[str, dict[str, str], int]] = []
        self.rest_log: list[tuple[str, dict[str, str]]] = []
        # What happens to traffic per number, as the test decides.
        self.sms_outcomes: dict[str, str] = {}  # number → delivered | failed | undelivered
        self.call_outcomes: dict[str, str] = {}  # number → human | machine | no-answer | busy | failed
        self.dial_outcomes: dict[str, str] = {}  # number → completed | no-answer | busy | failed
        self.rest_failures: list[tuple[int, int | None]] = []  # next REST calls answer (status, code)
        self.out_of_order = False
        # A slow Twilio: a created message is kept at once, its answer comes this much later (a worker
        # killed meanwhile never learns that the text went out).
        self.answer_delay_seconds = 0.0
        # False: listing messages answers 503 (Gridline cannot ask whether a text went out).
        self.lookups_available = True
        # MMS media phones sent: media sid → (bytes, content type); what Gridline fetched, what was refused.
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_fetched: list[str] = []
        self.media_refused = 0
        self._pending: list[Callable[[], Awaitable[None]]] = []
        self._runner: web.AppRunner | None = None
        self._http: httpx.AsyncClient | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post(API.format(sid="{sid}") + "/Messages.json", self._create_message)
        app.router.add_get(API.format(sid="{sid}") + "/Messages.json", self._list_messages)
        app.router.add_post(API.format(sid="{sid}") + "/Calls.json", self._create_call)
        app.router.add_get(API.format(sid="{sid}") + "/Recordings/{rec}", self._recording)
        app.router.add_get(API.format(sid="{sid}") + "/Messages/{msg}/Media/{media}", self._media)
        self._runner, self.base_url = await serve_locally(app)
        self._http = httpx.AsyncClient(timeout=30)
        return self

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what phones do --------------------------------------------------------------------

    def phone(self, number: str) -> FakePhone:
        return FakePhone(self, number)

    async def post_signed(self, url: str, params: dict[str, str], *, token: str | None = None) -> httpx.Response:
        """POST a form to Gridline the way Twilio does: with ``X-Twilio-Signature``."""
        assert self._http is not None, "start() the fake first"
        signature = RequestValidator(token or self.signing_token).compute_signature(url, params)
        response = await self._http.post(url, data=params, headers={"X-Twilio-Signature": signature})
        self.callback_log.append((url, params, response.status_code))
        return response

    # --- progress: run what Twilio would do next ----------------------------------------------

    async def settle(self) -> int:
        """Run every pending status change and callback; returns how many steps ran."""
        ran = 0
        while self._pending:
            step = self._pending.pop(0)
            await step()
            ran += 1
        return ran

    async def message_status(self, message: FakeMessage, status: str) -> None:
        message.status = status
        message.callbacks_sent.append(status)
        if not message.status_callback:
            return
        params = {
            "AccountSid": self.account_sid,
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "From": message.from_,
            "To": message.to,
            "MessageStatus": status,
            "SmsStatus": status,
            "ApiVersion": "2010-04-01",
        }
        if status in MESSAGE_ERROR_CODES:
            params["ErrorCode"] = MESSAGE_ERROR_CODES[status]
        response = await self.post_signed(message.status_callback, params)
        if response.status_code >= 300:
            self.errors.append(f"status callback {status} for {message.sid}: {response.status_code}")

    def next_sequence(self, call: FakeCall) -> int:
        call.sequence += 1
        return call.sequence - 1

    async def call_status(self, call: FakeCall, status: str, *, seq: int | None = None, **extra: str) -> None:
        """A call status callback, numbered with ``SequenceNumber`` (in the order Twilio made them)."""
        if not call.status_callback:
            return
        number = self.next_sequence(call) if seq is None else seq
        params = {**call.base_params(), "CallStatus": status, "SequenceNumber": str(number)}
        params.update(extra)
        params["CallbackSource"] = "call-progress-events"
        response = await self.post_signed(call.status_callback, params)
        if response.status_code >= 300:
            self.errors.append(f"call status {status} for {call.sid}: {response.status_code}")

    # --- the REST API ----------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (
            user == self.account_sid
            and password == self.auth_token
            and request.match_info["sid"] == self.account_sid
        )

    def _refusal(self, request: web.Request) -> web.Response | None:
        if not self._authorised(request):
            return _error(401, 20003, "Authenticate")
        if self.rest_failures:
            status, code = self.rest_failures.pop(0)
            return _error(status, code, "refused by the test")
        return None

    async def _create_message(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        form = await request.post()
        fields = {k: str(v) for k, v in form.items()}
        self.rest_log.append(("Messages.json", fields))
        if not fields.get("To") or not fields.get("Body") or not fields.get("From"):
            return _error(400, 21604, "A 'To', 'From' and 'Body' are required")
        message = FakeMessage(
            sid="SM" + secrets.token_hex(16),
            to=fields["To"],
            from_=fields["From"],
            body=fields["Body"],
            status_callback=fields.get("StatusCallback"),
        )
        self.messages.append(message)
        if self.answer_delay_seconds:
            await asyncio.sleep(self.answer_delay_seconds)
        outcome = self.sms_outcomes.get(message.to, "delivered")
        steps = ["failed"] if outcome == "failed" else ["sent", outcome]
        if self.out_of_order:
            steps.reverse()
        for status in steps:
            self._pending.append(_bind(self.message_status, message, status))
        return web.json_response(_message_json(self.account_sid, message), status=201)

    async def _list_messages(self, request: web.Request) -> web.Response:
        """``GET Messages.json`` with Twilio's filters ``To`` and ``From`` (one page, newest first)."""
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        if not self.lookups_available:
            return _error(503, 20503, "Service unavailable")
        query = request.query
        self.rest_log.append(("GET Messages.json", dict(query)))
        found = [m for m in reversed(self.messages)
                 if query.get("To", m.to) == m.to and query.get("From", m.from_) == m.from_]
        uri = request.path
        return web.json_response({
            "messages": [_message_json(self.account_sid, m) for m in found],
            "end": max(len(found) - 1, 0), "first_page_uri": uri, "next_page_uri": None, "page": 0,
            "page_size": 50, "previous_page_uri": None, "start": 0, "uri": uri,
        })

    async def _create_call(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        form = await request.post()
        fields = {k: str(v) for k, v in form.items()}
        events = tuple(str(v) for v in form.getall("StatusCallbackEvent", []))
        self.rest_log.append(("Calls.json", fields))
        if not fields.get("To") or not fields.get("From") or not (fields.get("Url") or fields.get("Twiml")):
            return _error(400, 21205, "To, From and Url are required")
        call = FakeCall(
            fake=self,
            sid="CA" + secrets.token_hex(16),
            from_=fields["From"],
            to=fields["To"],
            direction="outbound-api",
            status="queued",
            status_callback=fields.get("StatusCallback"),
            callback_events=events,
        )
        self.calls.append(call)
        self._pending.append(_bind(self._progress_call, call, fields))
        return web.json_response(_call_json(self.account_sid, call), status=201)

    async def _progress_call(self, call: FakeCall, fields: dict[str, str]) -> None:
        outcome = self.call_outcomes.get(call.to, "human")
        detect = fields.get("MachineDetection") in ("Enable", "DetectMessageEnd")
        statuses = ["initiated", "ringing"]
        if outcome in ("no-answer", "busy", "failed"):
            statuses.append(outcome)
        # Sequence numbers are given as Twilio makes the events; out of order only changes delivery.
        updates = [
            (status, self.next_sequence(call))
            for status in statuses
            if status not in ("initiated", "ringing") or status in call.callback_events
        ]
        if self.out_of_order:
            updates.reverse()
        for status, seq in updates:
            call.status = status
            await self.call_status(call, status, seq=seq)
        if outcome in ("no-answer", "busy", "failed"):
            call.status = outcome
            return
        if detect:
            call.answered_by = "machine_start" if outcome == "machine" else "human"
        call.status = "in-progress"
        if "answered" in call.callback_events:
            await self.call_status(call, "in-progress")
        await call.start(fields["Url"])

    async def _media(self, request: web.Request) -> web.Response:
        """An MMS's media, for the account's basic auth only (Twilio's "enforce HTTP auth on media")."""
        if not self._authorised(request):
            self.media_refused += 1
            return _error(401, 20003, "Authenticate")
        found = self.media.get(request.match_info["media"])
        if found is None:
            return _error(404, 20404, "media not found")
        content, content_type = found
        self.media_fetched.append(request.match_info["media"])
        return web.Response(body=content, content_type=content_type)

    async def _recording(self, request: web.Request) -> web.Response:
        return web.Response(body=b"RIFF....WAVE", content_type="audio/x-wav")

    # --- inspection --------------------------------------------------------------------------

    def messages_to(self, number: str) -> list[FakeMessage]:
        return [m for m in self.messages if m.to == number]

    def calls_to(self, number: str) -> list[FakeCall]:
        return [c for c in self.calls if c.to == number]


class FakePhone:
    """A person's phone: it texts and calls the hotline, and receives Gridline's texts and calls."""

    def __init__(self, fake: FakeTwilio, number: str) -> None:
        self.fake = fake
        self.number = number

    async def text(self, body: str, *, to: str | None = None, sid: str | None = None, **extra: str) -> Inbound:
        """Text the SMS hotline; returns Gridline's answer to the webhook. ``extra`` adds or replaces fields."""
        params = {
            "AccountSid": self.fake.account_sid,
            "MessageSid": sid or "SM" + secrets.token_hex(16),
            "SmsSid": sid or "",
            "From": self.number,
            "To": to or self.fake.sms_number,
            "Body": body,
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }
        params["SmsSid"] = params["MessageSid"]
        params.update(extra)
        response = await self.fake.post_signed(self.fake.gridline_url + "/webhooks/twilio/sms", params)
        return Inbound(response.status_code, response.text)

    reply = text

    async def mms(self, body: str, *photos: bytes, content_type: str = "image/jpeg") -> Inbound:
        """Text the hotline with photos attached: ``NumMedia`` and ``MediaUrlN`` on Twilio's media URLs."""
        sid = "MM" + secrets.token_hex(16)
        extra = {"NumMedia": str(len(photos))}
        for i, content in enumerate(photos):
            media_sid = "ME" + secrets.token_hex(16)
            self.fake.media[media_sid] = (content, content_type)
            path = API.format(sid=self.fake.account_sid) + f"/Messages/{sid}/Media/{media_sid}"
            extra[f"MediaUrl{i}"] = "https://api.twilio.com" + path  # what Twilio sends; Gridline asks its base URL
            extra[f"MediaContentType{i}"] = content_type
        return await self.text(body, sid=sid, **extra)

    async def call(self) -> FakeCall:
        """Call the voice hotline; returns the call waiting at its first question."""
        call = FakeCall(
            fake=self.fake,
            sid="CA" + secrets.token_hex(16),
            from_=self.number,
            to=self.fake.voice_number,
            direction="inbound",
            status="ringing",
        )
        self.fake.calls.append(call)
        await call.start(self.fake.gridline_url + "/webhooks/twilio/voice")
        return call

    def unread(self) -> list[FakeMessage]:
        return [m for m in self.fake.messages_to(self.number) if not m.read]

    def expect_sms(self, *contains: str) -> FakeMessage:
        """The oldest unread text to this phone containing every one of ``contains``."""
        for message in self.unread():
            if all(part in message.body for part in contains):
                message.read = True
                return message
        got = "\n".join(f"  {m.body!r}" for m in self.unread()) or "  (nothing)"
        raise AssertionError(f"{self.number} expected a text containing {contains}; unread texts:\n{got}")

    def expect_no_sms(self) -> None:
        unread = self.unread()
        assert not unread, f"{self.number} expected no text, got {[m.body for m in unread]}"

    def expect_call(self) -> FakeCall:
        """The latest call Gridline placed to this phone (run ``settle`` first to let it ring)."""
        calls = self.fake.calls_to(self.number)
        assert calls, f"{self.number} expected a call, got none"
        return calls[-1]


def _bind(fn: Callable[..., Awaitable[None]], *args: Any) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        await fn(*args)

    return step


def _error(status: int, code: int | None, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
        status=status,
    )


def _message_json(account_sid: str, message: FakeMessage) -> dict[str, Any]:
    return {
        "sid": message.sid,
        "account_sid": account_sid,
        "to": message.to,
        "from": message.from_,
        "body": message.body,
        "status": message.status,
        "num_segments": "1",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "uri": f"{API.format(sid=account_sid)}/Messages/{message.sid}.json",
    }


def _call_json(account_sid: str, call: FakeCall) -> dict[str, Any]:
    return {
        "sid": call.sid,
        "account_sid": account_sid,
        "to": call.to,
        "from": call.from_,
        "status": call.status,
        "direction": call.direction,
        "api_version": "2010-04-01",
        "uri": f"{API.format(sid=account_sid)}/Calls/{call.sid}.json",
    }

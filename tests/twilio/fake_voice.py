"""The voice half of the fake Twilio: a call that fetches TwiML from Gridline and acts it out.

A :class:`FakeCall` reads every ``<Say>`` into its transcript and stops where a person would have to
do something — a ``<Gather>`` (the test speaks, presses keys or stays silent) or a ``<Record>`` (the
test leaves a voicemail or says nothing). ``<Redirect>`` is followed, ``<Dial>`` is answered with the
outcome the test chose for that number, ``<Hangup>`` or the end of the document ends the call.
Anything Twilio itself would reject (a non-200 answer, XML that is not TwiML, a call that loops
without ever asking anything) is recorded in ``fake.errors`` and ends the call, like Twilio's
"an application error has occurred".
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.twilio.fake_twilio import FakeTwilio

# Fetches in a row without the caller being asked anything: more means Gridline is looping.
MAX_FETCHES_WITHOUT_INPUT = 12


@dataclass
class Dialled:
    number: str
    caller_id: str
    timeout: str
    outcome: str


@dataclass
class FakeCall:
    """One phone call, inbound (a resident calls the hotline) or outbound (Gridline pages someone)."""

    fake: FakeTwilio
    sid: str
    from_: str
    to: str
    direction: str  # "inbound" | "outbound-api"
    answered_by: str | None = None
    status: str = "ringing"
    transcript: list[str] = field(default_factory=list)
    dialled: list[Dialled] = field(default_factory=list)
    # Where the call waits for the person: ("gather", element) or ("record", element).
    waiting: tuple[str, ET.Element] | None = None
    # The verbs after the element we wait at: what Twilio does if nothing is said or recorded.
    _rest: list[ET.Element] = field(default_factory=list)
    _fetches_without_input: int = 0
    _heard_since_input: list[str] = field(default_factory=list)
    # Outbound calls report their progress to Gridline.
    status_callback: str | None = None
    callback_events: tuple[str, ...] = ()
    sequence: int = 0

    @property
    def ended(self) -> bool:
        return self.status in ("completed", "busy", "no-answer", "failed", "canceled")

    @property
    def heard(self) -> str:
        """Everything said to the caller so far, one sentence per line."""
        return "\n".join(self.transcript)

    @property
    def last_heard(self) -> str:
        """What was said since the caller last did something."""
        return "\n".join(self._heard_since_input)

    def base_params(self) -> dict[str, str]:
        params = {
            "AccountSid": self.fake.account_sid,
            "CallSid": self.sid,
            "From": self.from_,
            "To": self.to,
            "CallStatus": "in-progress" if self.status == "in-progress" else self.status,
            "Direction": self.direction,
            "ApiVersion": "2010-04-01",
        }
        if self.answered_by:
            params["AnsweredBy"] = self.answered_by
        return params

    # --- what the person on the phone does -------------------------------------------------

    async def say(self, speech: str, confidence: float = 0.92) -> FakeCall:
        """Speak while a ``<Gather input="speech ...">`` is listening."""
        gather = self._gather("speech")
        await self._input(gather, {"SpeechResult": speech, "Confidence": f"{confidence:.2f}"})
        return self

    async def press(self, digits: str) -> FakeCall:
        """Press keys while a ``<Gather>`` is listening for DTMF."""
        gather = self._gather("dtmf")
        await self._input(gather, {"Digits": digits})
        return self

    async def stay_silent(self) -> FakeCall:
        """Say nothing: the ``<Gather>`` times out and Twilio goes on with the next verbs."""
        self._gather(None)
        await self._continue_after_wait()
        return self

    async def leave_voicemail(self, seconds: int = 12) -> FakeCall:
        """Talk after the beep of a ``<Record>``."""
        if self.waiting is None or self.waiting[0] != "record":
            raise AssertionError(f"the call is not recording; it said:\n{self.heard}")
        element = self.waiting[1]
        self.waiting = None
        rec_sid = "RE" + secrets.token_hex(16)
        url = f"{self.fake.base_url}/2010-04-01/Accounts/{self.fake.account_sid}/Recordings/{rec_sid}"
        self.fake.recordings.append(url)
        action = element.get("action")
        if action is None:
            raise AssertionError("<Record> without an action: the recording would be lost")
        self._input_happened()
        await self._fetch(action, {"RecordingUrl": url, "RecordingSid": rec_sid, "RecordingDuration": str(seconds)})
        return self

    async def hang_up(self) -> None:
        self.waiting = None
        await self._end("completed")

    # --- interpreting TwiML ----------------------------------------------------------------

    def _gather(self, kind: str | None) -> ET.Element:
        if self.waiting is None or self.waiting[0] != "gather":
            state = "ended" if self.ended else f"waiting at {self.waiting[0]}" if self.waiting else "busy"
            raise AssertionError(f"the call is not listening ({state}); it said:\n{self.heard}")
        gather = self.waiting[1]
        inputs = (gather.get("input") or "dtmf").split()
        if kind is not None and kind not in inputs:
            raise AssertionError(f"the <Gather> listens for {inputs}, not {kind}")
        return gather

    def _input_happened(self) -> None:
        self._fetches_without_input = 0
        self._heard_since_input = []

    async def _input(self, gather: ET.Element, params: dict[str, str]) -> None:
        self.waiting = None
        self._input_happened()
        action = gather.get("action")
        if action is None:
            raise AssertionError("a <Gather> without an action posts to the current document; Gridline sets one")
        await self._fetch(action, params)

    async def _continue_after_wait(self) -> None:
        self.waiting = None
        rest, self._rest = self._rest, []
        self._input_happened()
        await self._run(rest)

    async def start(self, url: str) -> None:
        """The call is answered: fetch its first TwiML document."""
        self.status = "in-progress"
        await self._fetch(url, {})

    async def _fetch(self, url: str, extra: dict[str, str]) -> None:
        self._fetches_without_input += 1
        if self._fetches_without_input > MAX_FETCHES_WITHOUT_INPUT:
            self.fake.errors.append(f"{self.sid}: {MAX_FETCHES_WITHOUT_INPUT} TwiML fetches without input")
            await self._end("completed")
            return
        response = await self.fake.post_signed(url, {**self.base_params(), **extra})
        if response.status_code != 200:
            self.fake.errors.append(f"{self.sid}: {url} answered {response.status_code}: {response.text[:200]}")
            self.transcript.append("<application error>")
            await self._end("completed")
            return
        try:
            root = ET.fromstring(response.text)
        except ET.ParseError as exc:
            self.fake.errors.append(f"{self.sid}: {url} is not XML: {exc}")
            await self._end("completed")
            return
        if root.tag != "Response":
            self.fake.errors.append(f"{self.sid}: {url} root is <{root.tag}>, not <Response>")
            await self._end("completed")
            return
        await self._run(list(root))

    async def _run(self, verbs: list[ET.Element]) -> None:
        for index, verb in enumerate(verbs):
            rest = verbs[index + 1 :]
            if verb.tag == "Say":
                self._hear(verb.text or "")
            elif verb.tag in ("Pause", "Play"):
                continue
            elif verb.tag == "Gather":
                for child in verb:
                    if child.tag == "Say":
                        self._hear(child.text or "")
                self.waiting, self._rest = ("gather", verb), rest
                return
            elif verb.tag == "Record":
                self.waiting, self._rest = ("record", verb), rest
                return
            elif verb.tag == "Redirect":
                await self._fetch((verb.text or "").strip(), {})
                return
            elif verb.tag == "Dial":
                if await self._dial(verb):
                    return
            elif verb.tag in ("Hangup", "Reject"):
                await self._end("completed")
                return
            else:
                self.fake.errors.append(f"{self.sid}: unsupported verb <{verb.tag}>")
        await self._end("completed")

    async def _dial(self, verb: ET.Element) -> bool:
        """Returns True if the dial's action took over the call."""
        numbers = [(n.text or "").strip() for n in verb if n.tag == "Number"]
        if not numbers and verb.text and verb.text.strip():
            numbers = [verb.text.strip()]
        number = numbers[0] if numbers else ""
        outcome = self.fake.dial_outcomes.get(number, "completed")
        self.dialled.append(
            Dialled(number=number, caller_id=verb.get("callerId", ""), timeout=verb.get("timeout", ""), outcome=outcome)
        )
        action = verb.get("action")
        if action is None:
            return False
        duration = "35" if outcome == "completed" else "0"
        await self._fetch(action, {"DialCallStatus": outcome, "DialCallDuration": duration})
        return True

    def _hear(self, text: str) -> None:
        text = text.strip()
        if text:
            self.transcript.append(text)
            self._heard_since_input.append(text)

    async def _end(self, status: str) -> None:
        if self.ended:
            return
        self.waiting = None
        self.status = status
        if self.direction != "inbound":
            await self.fake.call_status(self, status, CallDuration="42" if status == "completed" else "0")

    def describe(self) -> dict[str, Any]:
        return {"sid": self.sid, "to": self.to, "status": self.status, "heard": self.transcript}

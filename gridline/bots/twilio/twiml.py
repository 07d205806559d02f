"""What a call says: TwiML documents for the voice hotline and for pages by phone.

Renderers only: they take texts already chosen (from the catalogue or the core's replies) and URLs,
and return XML. What happens when a key is pressed lives in the voice handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from twilio.twiml.voice_response import Gather, VoiceResponse

from gridline.settings import Settings

WEBHOOK_PREFIX = "/webhooks/twilio"
# Seconds of silence before a <Gather> gives up; elderly callers need time.
GATHER_TIMEOUT_SECONDS = 6
VOICEMAIL_MAX_SECONDS = 120


def webhook_url(settings: Settings, path: str, **query: str | int) -> str:
    """The public URL of one of the Twilio webhooks (``path`` below /webhooks/twilio)."""
    url = settings.server.public_base_url.rstrip("/") + WEBHOOK_PREFIX + path
    if query:
        url += "?" + urlencode(query)
    return url


def _say_attrs(settings: Settings, lang: str) -> dict[str, str]:
    # The configured voice is a Mandarin one; English texts use Twilio's default English voice.
    if lang == "en":
        return {"language": "en-US"}
    attrs = {"language": settings.twilio.say_language}
    if settings.twilio.say_voice:
        attrs["voice"] = settings.twilio.say_voice
    return attrs


def _speech_language(settings: Settings, lang: str) -> str:
    return "en-US" if lang == "en" else settings.twilio.speech_language


def add_says(parent: VoiceResponse | Gather, settings: Settings, lang: str, texts: Sequence[str]) -> None:
    attrs = _say_attrs(settings, lang)
    for text in texts:
        if text.strip():
            parent.say(text, **attrs)


def prompt(
    settings: Settings,
    lang: str,
    texts: Sequence[str],
    *,
    action: str,
    on_silence: str,
    speech: bool = True,
    num_digits: int = 1,
) -> str:
    """Say ``texts`` inside a ``<Gather>`` posting to ``action``; silence redirects to ``on_silence``.

    Wrapping the whole prompt in the Gather lets the caller answer before it has been read out.
    """
    response = VoiceResponse()
    gather_attrs: dict[str, str | int] = {
        "action": action,
        "method": "POST",
        "num_digits": num_digits,
        "timeout": GATHER_TIMEOUT_SECONDS,
    }
    if speech:
        gather_attrs.update(
            input="speech dtmf",
            language=_speech_language(settings, lang),
            speech_timeout="auto",
        )
    else:
        gather_attrs["input"] = "dtmf"
    gather = response.gather(**gather_attrs)
    add_says(gather, settings, lang, texts)
    response.redirect(on_silence, method="POST")
    return str(response)


def goodbye(settings: Settings, lang: str, texts: Sequence[str]) -> str:
    """Say ``texts`` and hang up."""
    response = VoiceResponse()
    add_says(response, settings, lang, texts)
    response.hangup()
    return str(response)


def please_wait(settings: Settings, lang: str, text: str, *, then: str) -> str:
    """Keep the caller company while the core works, then fetch the answer from ``then``."""
    response = VoiceResponse()
    add_says(response, settings, lang, [text])
    response.pause(length=1)
    response.redirect(then, method="POST")
    return str(response)


def dial(
    settings: Settings,
    lang: str,
    intro: str,
    *,
    number: str,
    action: str,
) -> str:
    """Connect the caller to ``number`` with the hotline as caller id; ``action`` hears how it went."""
    response = VoiceResponse()
    add_says(response, settings, lang, [intro])
    dial_verb = response.dial(
        action=action,
        method="POST",
        timeout=settings.twilio.dial_timeout_seconds,
        caller_id=settings.twilio.voice_number or settings.twilio.sms_number or None,
    )
    dial_verb.number(number)
    return str(response)


def record_voicemail(settings: Settings, lang: str, intro: str, *, action: str, nothing_recorded: str) -> str:
    """Ask for a voicemail. Twilio posts the recording to ``action``; an empty one falls through."""
    response = VoiceResponse()
    add_says(response, settings, lang, [intro])
    response.record(
        action=action,
        method="POST",
        max_length=VOICEMAIL_MAX_SECONDS,
        finish_on_key="#",
        play_beep=True,
        timeout=8,
    )
    add_says(response, settings, lang, [nothing_recorded])
    response.hangup()
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)

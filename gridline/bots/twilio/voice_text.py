"""What a call says: the core's replies rendered for the ear (render at the edge).

The core answers with message keys and facts (:class:`~gridline.kernel.messages.Reply`); a typed
channel renders the key, the phone renders the key's voice variant when it has one — a text written
for typing ("share your location or type your address") is said differently on a call ("please say
your address"). Nothing here matches rendered text back to a key.
"""

from __future__ import annotations

from gridline.i18n.phrases import Phrase, params_from_json, render
from gridline.kernel.messages import Option, Reply
from gridline.kernel.notify import Said
from gridline.storage.models import Message

# Keys of texts written for typing → their spoken variant (same facts).
VOICE_VARIANTS = {
    "registration.ask_location": "twilio.voice.ask_address",
    "registration.address_not_found": "twilio.voice.address_not_found",
    "checkins.ask.again": "checkins.ask.voice_again",
    "find_leader.unknown_grid": "twilio.voice.find_leader.unknown_grid",
    "emergency.advice": "twilio.voice.emergency.advice",  # no "⚠️" for the speech engine to read out
    "emergency.advice_unplaced": "twilio.voice.emergency.advice_unplaced",
    "find_leader.answer": "twilio.voice.find_leader.answer",
    "find_leader.answer_on_duty": "twilio.voice.find_leader.answer_on_duty",
    "case.followed_up_told": "twilio.voice.followed_up_told",  # the caller's words reached the holder
}


def spoken(reply: Reply) -> str:
    """The reply as the call says it."""
    return reply.render(VOICE_VARIANTS.get)


def spoken_said(line: Said) -> str:
    """What a staff member is told (a ``Said``, in their language) as the call says it."""
    return render(line, line.lang, VOICE_VARIANTS.get)


def spoken_option(option: Option, lang: str | None) -> str:
    """A choice as the call's menu says it (``按1 …``): its label's voice variant."""
    return option.text(lang, VOICE_VARIANTS.get)


def spoken_message(message: Message) -> str:
    """A stored outbound message as a call says it: its key's voice variant, else its text."""
    if not message.text_key:
        return message.text or ""
    phrase = Phrase(message.text_key, params_from_json(message.text_params))
    return render(phrase, message.lang, VOICE_VARIANTS.get)

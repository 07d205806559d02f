"""Which number a resident is pointed to: the SMS hotline (``twilio.sms_number``) and the voice
hotline (``twilio.voice_number``) may be one number or two.

The STOP confirmation says the resident can still call; a call's goodbyes say they can text. 「本号码」
(this number) is only right when both hotlines are the same number; with two, the other one is named
(read out digit by digit on a call); without an SMS hotline, a call's goodbye does not invite texts.
No voice number means the SMS number takes the calls too, as it places them (docs/twilio.md).
"""

from __future__ import annotations

import phonenumbers

from gridline.bots.twilio.phone import to_e164
from gridline.i18n import t
from gridline.i18n.phrases import Phrase
from gridline.settings import Settings


def _other_number(settings: Settings, mine: str, other: str) -> tuple[str, str | None]:
    """("same", None), ("other", the other E.164 number) or ("none", None) when there is no other."""
    region = settings.twilio.default_region
    theirs = to_e164(other, region)
    if theirs is None:
        return "none", None
    return ("same", None) if to_e164(mine, region) in (None, theirs) else ("other", theirs)


def _voice_number(settings: Settings) -> str:
    # Calls are placed from the SMS number when no voice number is set (``client``, ``twiml.dial``).
    return settings.twilio.voice_number or settings.twilio.sms_number


def written(number: str, region: str) -> str:
    """A number as a resident reads it in a text: national format when it is a real number."""
    parsed = phonenumbers.parse(number, region)
    if phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return number


def spoken(number: str, region: str) -> str:
    """A number as a call says it: its national digits one by one (「1 0 6 9 …」), not a quantity."""
    parsed = phonenumbers.parse(number, region)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    if not phonenumbers.is_valid_number(parsed):
        national = phonenumbers.national_significant_number(parsed)
    return " ".join(ch for ch in national if ch.isdigit())


def opted_out_phrase(settings: Settings) -> Phrase:
    """The STOP confirmation: 「拨打本号码仍可反映问题」 when the SMS hotline takes calls too, the voice
    hotline's number when it is another, no call hint without one."""
    how, number = _other_number(settings, settings.twilio.sms_number, _voice_number(settings))
    if how == "other" and number is not None:
        return Phrase("twilio.sms.opted_out_call", {"number": written(number, settings.twilio.default_region)})
    return Phrase("twilio.sms.opted_out" if how == "same" else "twilio.sms.opted_out_no_call")


def text_us_goodbye(settings: Settings, key: str, lang: str) -> str:
    """A call's goodbye that says the caller can also text (``twilio.voice.no_input_goodbye``,
    ``…no_voicemail``, ``…failed``): its 「本号码」 wording when the voice hotline takes texts too,
    ``<key>_text`` with the SMS hotline read out when it is another number, ``<key>_no_text`` without."""
    how, number = _other_number(settings, _voice_number(settings), settings.twilio.sms_number)
    if how == "other" and number is not None:
        return t(f"{key}_text", lang, number=spoken(number, settings.twilio.default_region))
    return t(key if how == "same" else f"{key}_no_text", lang)

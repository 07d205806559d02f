"""What an SMS says: options as numbered choices, and the length of a text in SMS segments.

A text with any Chinese character is sent as UCS-2: 70 UTF-16 units fit one segment, 67 per segment
after that. Plain GSM-7 texts fit 160 (153). Elderly residents pay per segment on some plans and
long texts arrive split, so Gridline keeps replies within one segment where it can.
"""

from __future__ import annotations

from collections.abc import Sequence

from gridline.i18n import t
from gridline.kernel.messages import Option
from gridline.kernel.notify import MessageNotice

UCS2_SINGLE, UCS2_MULTI = 70, 67
GSM_SINGLE, GSM_MULTI = 160, 153
# The GSM 03.38 basic character set (extension-table characters count double and are left out).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM_BASIC for ch in text)


def ucs2_units(text: str) -> int:
    """Length in UTF-16 code units (characters outside the BMP, e.g. emoji, count twice)."""
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """How many SMS segments ``text`` takes."""
    if is_gsm7(text):
        single, multi, length = GSM_SINGLE, GSM_MULTI, len(text)
    else:
        single, multi, length = UCS2_SINGLE, UCS2_MULTI, ucs2_units(text)
    if length <= single:
        return 1
    return -(-length // multi)


def render_options(options: Sequence[Option], lang: str) -> str:
    """``回复1 水电 / 回复2 其他`` — the core maps the number back to the option, in this order."""
    return "\n".join(
        t("twilio.sms.option_line", lang, n=i, label=o.text(lang, SMS_VARIANTS.get)) for i, o in enumerate(options, 1)
    )


# Keys whose typed text would take more than SEGMENT_BUDGET segments by SMS → their SMS wording
# (``sms.<key>`` in gridline/i18n/twilio.toml, same facts). A new text that does not fit gets its
# short form here, not cut off (tests/twilio/test_sms_budget.py renders every key SMS sends).
SMS_VARIANTS: dict[str, str] = {
    "case.created": "sms.case.created",
    "conversation.welcome": "sms.conversation.welcome",
    "conversation.help": "sms.conversation.help",
    "registration.ask_location": "sms.registration.ask_location",
    "registration.address_not_found": "sms.registration.address_not_found",
    "find_leader.unknown_grid": "sms.find_leader.unknown_grid",
    "status.header": "sms.status.header",
    "status.line": "sms.status.line",
    "checkins.notify.leader": "sms.checkins.notify.leader",
    "find_leader.answer_on_duty": "sms.find_leader.answer_on_duty",
    "rota.cover.which_grid": "sms.rota.cover.which_grid",
    "rota.cover.done": "sms.rota.cover.done",
    "rota.cover.done_untold": "sms.rota.cover.done_untold",
}

# SMS wordings needed for what they say, not for their length: the typed text names something a
# text message cannot do.
SMS_WORDINGS: dict[str, str] = {
    "conversation.help": "the typed help names Telegram's /status and /lang; a text names the SMS keywords",
    "registration.ask_location": "a text cannot share a location: it asks for the address only",
    "registration.address_not_found": "a text cannot share a location: it asks for the address only",
    "find_leader.unknown_grid": "a text cannot share a location: it asks for the address only",
    "rota.cover.which_grid": "the typed example names Telegram's /cover; a text names the SMS word",
}

# Every SMS Gridline writes from a catalogue key fits this many segments (two UCS-2 segments: 134
# Chinese characters; two GSM-7: 306), with its choices and with the longest facts it carries
# (the demo city's longest grid name, a four-character name, the longest category label).
SEGMENT_BUDGET = 2
# Texts that carry what a person wrote or a list that grows: as long as what they carry.
UNBOUNDED = {
    "case.leader_says": "a staff member's words, passed on",
    "twilio.staff.resident_adds": "a resident's words, passed on to who holds the case",
    "twilio.staff.resident_adds_no_code": "a resident's words, passed on to who holds the case",
    "broadcast.text": "a supervisor's notice",
    "text.as_written": "text kept as written",
    "text.lines": "a digest: one line per visit owed",
    "visits.missed.text": "the household's visit history",
    "rota.cover.asked": "the reason a staff member gave for handing over a shift",
    "rota.cover.which_grid": "one line per grid the sender has shifts on (staff on more than one rota: rare)",
}


def sms_text(notice: MessageNotice) -> str:
    """The message's text as SMS says it: its key's SMS variant where it has one."""
    return notice.render(SMS_VARIANTS.get)


def render_message(text: str, options: Sequence[Option], lang: str) -> str:
    """The SMS body for a message with optional choices.

    Whitespace runs are squeezed (each one is a paid character); nothing is cut off — a reference
    code or a choice that does not arrive is worse than a second segment.
    """
    body = _squeeze(text)
    if options:
        body = body + "\n" + render_options(options, lang)
    return body


def render_page(short_text: str, text: str) -> str:
    """A page by SMS: the core's short text (with the reply code), else the full text."""
    return _squeeze(short_text or text)


def _squeeze(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line)

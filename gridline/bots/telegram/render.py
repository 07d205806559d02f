"""What Telegram messages say and which buttons they carry (no sending, no decisions).

Texts come from the catalogue (``gridline/i18n/telegram.toml``); button data is signed by
:class:`~gridline.bots.telegram.callbacks.CallbackSigner`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gridline.bots.page_text import page_texts
from gridline.bots.telegram.callbacks import ACTION_CODES, LOOP_CODES, CallbackSigner, LoopAction
from gridline.bots.telegram.runtime import MAX_TEXT_LENGTH, Button, Keyboard
from gridline.domain.staff_actions import StaffAction
from gridline.i18n import t
from gridline.kernel.messages import Option
from gridline.kernel.notify import PageNotice
from gridline.settings import Settings

# The buttons of a fresh page, in rows; after acknowledgement the acknowledger keeps the follow-ups.
ActionRows = tuple[tuple[StaffAction | LoopAction, ...], ...]
PAGE_ACTIONS: ActionRows = (("acknowledge", "resolve"), ("escalate", "reassign"))
FOLLOW_UP_ACTIONS: ActionRows = (("resolve",), ("escalate", "reassign"), ("transfer", "extend"))
# Pages of the department loop and of extensions (by the page's reason): fresh, then after 签收.
LOOP_ROWS: dict[str, tuple[ActionRows, ActionRows]] = {
    "transfer": ((("accept", "return"),), (("reply", "return"), ("extend",))),
    "transfer_escalated": ((("accept", "return"),), (("reply", "return"), ("extend",))),
    "transfer_rejected": ((("reply", "return"), ("extend",)), (("reply", "return"), ("extend",))),
    "transfer_replied": ((("approve", "reject"),), ()),
    "transfer_returned": ((("resolve", "transfer"), ("escalate", "reassign")), FOLLOW_UP_ACTIONS),
    "extension_requested": ((("grant", "refuse"),), ()),
    "extension_decided": ((), ()),
}


def rows_for(reason: str, *, follow_up: bool = False) -> ActionRows:
    """The buttons a page about ``reason`` carries (``follow_up``: after its person acknowledged it)."""
    fresh, after = LOOP_ROWS.get(reason, (PAGE_ACTIONS, FOLLOW_UP_ACTIONS))
    return after if follow_up else fresh

# Options whose labels are this short (ratings 1–5) share one row; longer ones get a row each.
SHORT_LABEL = 3


def page_text(notice: PageNotice, settings: Settings, now: datetime) -> str:
    """The page as the staff member reads it (with its deadline) plus how to answer on Telegram."""
    return f"{page_texts(notice, settings, now).full}\n\n{t('telegram.page.reply_hint', notice.lang)}"


def page_keyboard(
    signer: CallbackSigner,
    chat_id: int | str,
    page_id: int,
    lang: str,
    actions: ActionRows = PAGE_ACTIONS,
) -> Keyboard:
    """接单 / 已解决 / 上报 / 转交 (or the loop's 签收 / 回单 / 退单 …), each bound to this page and this chat."""
    return tuple(tuple(_button(signer, chat_id, page_id, lang, action) for action in row) for row in actions)


def _button(signer: CallbackSigner, chat_id: int | str, page_id: int, lang: str, action: str) -> Button:
    if action in LOOP_CODES:
        loop_action: LoopAction = action  # type: ignore[assignment]
        label = t(f"telegram.page.button.{LOOP_CODES[loop_action]}", lang)
        return Button(label=label, data=signer.loop_button(chat_id, page_id, loop_action))
    staff_action: StaffAction = action  # type: ignore[assignment]
    label = t(f"telegram.page.button.{ACTION_CODES[staff_action]}", lang)
    return Button(label=label, data=signer.page_button(chat_id, page_id, staff_action))


def option_keyboard(signer: CallbackSigner, chat_id: int | str, options: Sequence[Option], lang: str) -> Keyboard:
    """The core's Options as buttons, labelled in ``lang``: short labels on one row, long ones one per row."""
    buttons = [Button(label=o.text(lang), data=signer.option_button(chat_id, o.data)) for o in options]
    if not buttons:
        return ()
    if all(len(b.label) <= SHORT_LABEL for b in buttons):
        return (tuple(buttons),)
    return tuple((b,) for b in buttons)


def split_text(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """Cut ``text`` into messages Telegram accepts, at line breaks where possible.

    Telegram counts UTF-16 code units, so characters outside the BMP (emoji) count twice.
    """
    if _units(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while _units(rest) > limit:
        cut = _prefix_fitting(rest, limit)
        newline = rest.rfind("\n", 0, cut)
        if newline > cut // 2:  # a break in the second half keeps parts reasonably full
            cut = newline + 1
        parts.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:]
    if rest:
        parts.append(rest)
    return parts


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _prefix_fitting(text: str, limit: int) -> int:
    """The longest prefix length (in characters) of ``text`` within ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)

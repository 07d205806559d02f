"""What staff can do to a case they were paged about: the one vocabulary every channel maps to.

A Telegram button (``callbacks.PAGE_ACTIONS``), an SMS verb (``sms_grammar.VERBS``), a key pressed on
a page call (``voice_page.KEY_ACTIONS``), the sandbox and the staff inbox each turn their own input
into one of these and call the one receiver, ``routing.actions.act_on_case``, which checks who may
act and moves the case. A channel offers a subset (a call has no room for 转交).
"""

from __future__ import annotations

from typing import Literal, get_args

StaffAction = Literal["acknowledge", "resolve", "escalate", "reassign"]
STAFF_ACTIONS: tuple[StaffAction, ...] = get_args(StaffAction)

"""What came of a staff action, whichever channel it came from and whichever action it was: the
one answer every receiver (``routing.actions``, the department loop, extensions, supervision) gives
back for the channel to render."""

from __future__ import annotations

from dataclasses import dataclass

from gridline.kernel.notify import Said


@dataclass(frozen=True)
class ActionResult:
    """What came of a staff action: its ``code`` for the channel to branch on, and what the person
    who acted is told (``said``: a catalogue key and its facts, in their language), which their
    channel renders (``bots.page_text.said_text``; the console shows its own text by ``code``)."""

    ok: bool
    code: str  # acknowledged, already_acknowledged, resolved, escalated, reassigned, not_allowed, case_closed, ...
    said: Said | None
    case_ref: str = ""
    by_staff_name: str | None = None
    nobody_told: bool = False  # a case with no resident (主动发现): nobody was told or asked

    @property
    def notice(self) -> str:
        """The code the web inbox and the console show their notice by (``console.inbox.result.<notice>``,
        ``console.done.<notice>``): ``<code>_quiet`` when nobody was told, so the notice does not say so."""
        return f"{self.code}_quiet" if self.nobody_told else self.code

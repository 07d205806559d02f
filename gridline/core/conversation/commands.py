"""Bot commands (``/start``, ``/lang``, ``/status``, ``/help``; SMS keywords map to the same), the
status of a case by its reference, and the answer to nothing at all."""

from __future__ import annotations

from gridline.core import case_lookup
from gridline.core.answers import grid_name, open_cases
from gridline.core.conversation.keywords import resident_command
from gridline.core.conversation.states import IDLE, AwaitingAddress, State
from gridline.core.conversation.step import Step
from gridline.i18n import normalise_language, other_language
from gridline.i18n.phrases import Phrase


def command(step: Step, state: State) -> State:
    """A command answers and forgets the question asked; ``start`` may ask for the address."""
    resident, msg = step.resident, step.turn.msg
    name, args = (msg.command, msg.command_args) if msg.command else resident_command(msg.text) or ("", "")
    name = name.lower()
    if name == "lang":
        wanted = args.strip() or other_language(resident.lang)
        resident.lang = normalise_language(wanted)
        step.say("conversation.language_set")  # in the language just chosen (the sender's)
        return IDLE
    if name == "cases":  # 「我的工单」 in the bot's menu: for a resident, their own cases
        step.say(open_cases(step.work, resident.id or 0))
        return IDLE
    if name == "status":
        asked = case_lookup.parse_query(f"status {args}") if args.strip() else None
        step.say(by_reference(step, asked) if asked is not None else open_cases(step.work, resident.id or 0))
        return IDLE
    if name == "help":
        step.say("conversation.help")
        return IDLE
    if name != "start":  # /duty, /visits, the department loop's commands: staff's, not a resident's
        step.say("conversation.staff_command")
        return IDLE
    # start: welcome, then registration if needed
    if resident.grid_code:
        step.say("conversation.welcome_back", grid=grid_name(step.work, resident.grid_code))
        return IDLE
    step.say("conversation.welcome")
    step.say("registration.ask_location")
    return AwaitingAddress()


def case_query(step: Step, state: State) -> State:
    """"查询 W4RGMD" (with the reporter's last four digits for someone else's case)."""
    asked = case_lookup.parse_query(step.text)
    assert asked is not None, "the table routes only case queries here"
    step.say(by_reference(step, asked))
    return state


def nothing(step: Step, state: State) -> State:
    """A message with no words and nothing attached."""
    step.say("conversation.not_understood")
    return state


def by_reference(step: Step, asked: tuple[str, str | None]) -> Phrase:
    ref, last4 = asked
    return case_lookup.reference_status(step.work, step.resident.id, ref, last4, step.services.settings.timezone)


"""One staff-action vocabulary (``domain.staff_actions``); every channel's input maps onto it."""

from __future__ import annotations

from gridline.bots.telegram.callbacks import PAGE_ACTIONS
from gridline.bots.twilio.sms_grammar import VERBS
from gridline.bots.twilio.voice_page import KEY_ACTIONS
from gridline.bots.web.payloads import StaffActionIn
from gridline.domain.staff_actions import STAFF_ACTIONS

SMS_ONLY = {"relay", "help", "duty"}  # a message to the resident, the help text, one's shifts: not actions on the case


def test_telegram_buttons_offer_every_staff_action_and_nothing_else() -> None:
    assert sorted(PAGE_ACTIONS.values()) == sorted(STAFF_ACTIONS)


def test_sms_verbs_name_staff_actions_or_sms_commands() -> None:
    assert set(VERBS.values()) <= set(STAFF_ACTIONS) | SMS_ONLY
    assert {"acknowledge", "resolve", "escalate"} <= set(VERBS.values())


def test_a_page_call_offers_a_subset_by_key() -> None:
    assert set(KEY_ACTIONS.values()) <= set(STAFF_ACTIONS)


def test_the_web_api_accepts_exactly_the_staff_actions() -> None:
    schema = StaffActionIn.model_json_schema()
    assert sorted(schema["properties"]["action"]["enum"]) == sorted(STAFF_ACTIONS)

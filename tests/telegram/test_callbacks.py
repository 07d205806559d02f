"""Button callback data: small enough for Telegram, and refused when forged, altered or moved."""

from __future__ import annotations

import pytest

from gridline.bots.telegram.aiogram_runtime import OptionButton, PageButton, ReassignButton
from gridline.bots.telegram.callbacks import (
    MAX_CALLBACK_BYTES,
    CallbackSigner,
    CallbackTooLong,
    OptionCallback,
    PageCallback,
    ReassignCallback,
    derive_key,
)

CHAT = 7000000002
signer = CallbackSigner(derive_key("100001:TEST", "s3cret", "server-secret"))


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "escalate", "reassign"])
def test_a_page_button_round_trips_within_64_bytes(action):
    data = signer.page_button(CHAT, 987_654_321_012, action)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert signer.verify(CHAT, data) == PageCallback(page_id=987_654_321_012, action=action)


def test_changing_the_page_id_or_the_action_breaks_the_signature():
    data = signer.page_button(CHAT, 41, "acknowledge")
    prefix, page, action, mac = data.split(":")
    assert signer.verify(CHAT, f"{prefix}:42:{action}:{mac}") is None
    assert signer.verify(CHAT, f"{prefix}:{page}:res:{mac}") is None
    assert signer.verify(CHAT, f"{prefix}:{page}:{action}:{mac[:-1]}A") is None


def test_a_button_copied_into_another_chat_is_refused():
    data = signer.page_button(CHAT, 41, "acknowledge")
    assert signer.verify(CHAT + 1, data) is None


def test_buttons_from_another_bot_or_server_secret_are_refused():
    other = CallbackSigner(derive_key("100002:OTHER", "s3cret", "server-secret"))
    assert signer.verify(CHAT, other.page_button(CHAT, 41, "acknowledge")) is None
    rotated = CallbackSigner(derive_key("100001:TEST", "s3cret", "new-server-secret"))
    assert rotated.verify(CHAT, signer.page_button(CHAT, 41, "acknowledge")) is None


@pytest.mark.parametrize("garbage", [None, "", "pg:41:ack", "pg:x:ack:AAAA", "op|cat:water", "hello", "pg:" + "9" * 70])
def test_garbage_is_refused_without_errors(garbage):
    assert signer.verify(CHAT, garbage) is None


def test_an_option_round_trips_and_keeps_its_colons():
    data = signer.option_button(CHAT, "rate:GX7K2M9Q:5")
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert signer.verify(CHAT, data) == OptionCallback("rate:GX7K2M9Q:5")
    assert signer.verify(CHAT, data.replace(":5|", ":1|")) is None


def test_option_data_that_would_not_fit_is_refused_when_building():
    with pytest.raises(CallbackTooLong):
        signer.option_button(CHAT, "cat:" + "x" * 60)
    with pytest.raises(ValueError):
        signer.option_button(CHAT, "cat:a|b")


def test_the_wire_format_is_what_the_aiogram_callback_data_classes_describe():
    page = PageButton.unpack(signer.page_button(CHAT, 41, "escalate"))
    assert (page.page, page.act) == (41, "esc")
    assert PageButton(page=41, act="esc", mac=page.mac).pack() == signer.page_button(CHAT, 41, "escalate")
    option = OptionButton.unpack(signer.option_button(CHAT, "cat:water_supply"))
    assert option.data == "cat:water_supply"


def test_a_reassign_choice_round_trips_and_cannot_be_pointed_at_someone_else():
    data = signer.reassign_button(CHAT, 41, 17)
    assert signer.verify(CHAT, data) == ReassignCallback(page_id=41, staff_id=17)
    assert signer.verify(CHAT, data.replace(":17:", ":18:")) is None
    assert signer.verify(CHAT, signer.reassign_button(CHAT, 41, 0)) == ReassignCallback(page_id=41, staff_id=0)
    assert ReassignCallback(page_id=41, staff_id=0).cancelled
    assert ReassignButton.unpack(data).staff == 17

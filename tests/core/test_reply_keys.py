"""The core answers with catalogue keys and facts; the outbound row keeps them beside the text, and
each channel renders its own variant (the voice hotline speaks the key's voice variant)."""

from __future__ import annotations

from sqlmodel import select

from gridline.bots.twilio.voice_text import spoken, spoken_message
from gridline.core.conversation import handle_inbound
from gridline.i18n import t
from gridline.i18n.phrases import Lines, Phrase, from_json, render, to_json
from gridline.kernel.messages import InboundMessage, Reply
from gridline.storage.models import Message

STRANGER = "+8613800000000"  # not in the demo city: asked for an address


def test_a_phrase_renders_its_facts_through_the_catalogue_and_travels_as_json():
    phrase = Phrase(
        "status.open",
        {
            "header": Phrase("status.header", {"count": 2}),
            "cases": Lines((Phrase("category.noise"), Phrase("category.other"))),
        },
    )
    assert render(phrase, "en") == "You have 2 open case(s):\nNoise\nOther"
    assert from_json(to_json(phrase)) == phrase
    assert render(Phrase("case.escalated", {"ref": "A", "names": ["X", "Y"]}), "zh-CN") == t(
        "case.escalated", "zh-CN", ref="A", names="X、Y"
    )


def test_the_voice_variant_is_the_keys_not_a_match_of_the_text():
    ask = Reply("registration.ask_location", lang="en")
    assert ask.text == t("registration.ask_location", "en")
    assert spoken(ask) == t("twilio.voice.ask_address", "en")
    assert spoken(Reply("conversation.help", lang="en")) == t("conversation.help", "en")


async def test_the_outbound_row_keeps_the_key_and_facts_beside_the_text(services):
    outcome = await handle_inbound(
        services, InboundMessage(channel="sms", external_id=STRANGER, command="start"), deliver_replies=False
    )
    assert [r.key for r in outcome.replies] == ["conversation.welcome", "registration.ask_location"]
    with services.db.session() as session:
        rows = session.exec(select(Message).where(Message.direction == "out").order_by(Message.id)).all()
    assert [(m.text_key, m.text) for m in rows] == [(r.key, r.text) for r in outcome.replies]
    assert spoken_message(rows[-1]) == t("twilio.voice.ask_address", rows[-1].lang)


def test_sms_renders_the_keys_sms_variant_and_a_keyless_message_as_its_text(monkeypatch):
    from gridline.bots.twilio import sms_text
    from gridline.kernel.notify import MessageNotice

    notice = MessageNotice(
        message_id=1, channel="sms", target="+8613800000000", bot_name="", text="(as stored)", lang="en",
        key="registration.ask_location", params={},
    )  # fmt: skip
    # Its SMS wording asks for the address only (a text cannot share a location).
    assert sms_text.sms_text(notice) == t("sms.registration.ask_location", "en")
    monkeypatch.delitem(sms_text.SMS_VARIANTS, "registration.ask_location")
    assert sms_text.sms_text(notice) == t("registration.ask_location", "en")
    monkeypatch.setitem(sms_text.SMS_VARIANTS, "registration.ask_location", "twilio.voice.ask_address")
    assert sms_text.sms_text(notice) == t("twilio.voice.ask_address", "en")
    keyless = MessageNotice(message_id=2, channel="sms", target="", bot_name="", text="hello", lang="en")
    assert sms_text.sms_text(keyless) == "hello"

"""By SMS too: an address alone is kept, the problem asked, and the answer filed at that address."""

from __future__ import annotations

from gridline.i18n import t
from tests.twilio.conftest import LI_XIUYING, TwilioWorld


async def test_an_address_texted_alone_is_asked_about_then_filed_there(world: TwilioWorld) -> None:
    # 李秀英 is registered at 桐柏路199号院; the problem she is about to report is at number 173.
    resident = world.phone(LI_XIUYING)
    await resident.text("桐柏路173号院2号楼")
    await world.settle()
    assert world.cases() == []
    resident.expect_sms(t("conversation.ask_problem", "zh-CN", place="桐柏路173号院2号楼"))

    await resident.text("停水了")
    await world.settle()
    (case,) = world.cases()
    assert case.category == "water_supply"
    assert case.address_text is not None and "桐柏路173号院" in case.address_text
    resident.expect_sms(case.ref, "已受理")

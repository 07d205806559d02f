"""At night the one on duty is often a team member (网格员), not the grid leader: the replies say
which, instead of calling everyone on duty 网格长. Demo grid ZY01-01-1: leader 龙小燕 by day, team
member 姚晓燕 at night."""

from __future__ import annotations

from datetime import timedelta

from gridline.core.answers import staff_role
from gridline.core.conversation import handle_inbound
from gridline.i18n.phrases import Phrase, render
from gridline.kernel.messages import InboundMessage

LI_XIUYING = "+8617000010001"


async def _say(services, text: str, n: int) -> str:
    msg = InboundMessage(channel="sms", external_id=LI_XIUYING, text=text, provider_message_id=f"N{n}")
    return (await handle_inbound(services, msg, deliver_replies=False)).replies[-1].text


async def test_by_day_the_leader_is_named_grid_leader(services) -> None:
    assert "网格长龙小燕已收到通知" in await _say(services, "俺们楼从昨天就没水了咋弄", 1)
    answer = await _say(services, "谁是俺的网格长", 2)
    assert "当前值班网格长：龙小燕" in answer and "网格员" not in answer


async def test_at_night_the_team_member_on_duty_is_named_as_one_and_the_leader_too(services, clock) -> None:
    clock.advance(timedelta(hours=14))  # 00:00 in Zhengzhou
    created = await _say(services, "俺们楼从昨天就没水了咋弄", 1)
    assert "网格员姚晓燕已收到通知" in created and "网格长姚晓燕" not in created
    answer = await _say(services, "谁是俺的网格长", 2)
    assert "网格长是龙小燕" in answer and "现在值班的是网格员姚晓燕" in answer
    english = render(Phrase("find_leader.answer_on_duty", {"grid": "G", "contact": "12345", "leader": "龙小燕",
                                                           "who": "姚晓燕", "role": staff_role("member")}), "en")
    assert "grid leader 龙小燕, on duty now 姚晓燕 (team member)" in english


async def test_registering_at_night_names_the_grid_leader_not_the_member_on_duty(services, clock) -> None:
    """A pin dropped at night in GX01-01-2 said 网格长是叶保国 (the team member on night duty)."""
    clock.advance(timedelta(hours=14))
    pin = InboundMessage(channel="web", external_id="anon-night-pin-1", location=(34.8030, 113.5545),
                         provider_message_id="L1")  # fmt: skip
    said = (await handle_inbound(services, pin, deliver_replies=False)).replies[-1].text
    assert "网格长是廖志强" in said and "叶保国" not in said

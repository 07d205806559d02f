"""``/status REF`` (Telegram's command) answers one case by reference; bare ``/status`` lists one's open cases."""

from __future__ import annotations

from gridline.core.conversation import handle_inbound
from gridline.kernel.messages import InboundMessage

LI_XIUYING = "+8617000010001"


async def test_status_command_with_and_without_a_reference(services) -> None:
    water = "俺们楼从昨天就没水了咋弄"
    report = InboundMessage(channel="sms", external_id=LI_XIUYING, text=water, provider_message_id="S1")
    ref = (await handle_inbound(services, report, deliver_replies=False)).case_ref
    assert ref
    one = InboundMessage(channel="sms", external_id=LI_XIUYING, command="status", command_args=ref.lower(),
                         provider_message_id="S2")
    answer = (await handle_inbound(services, one, deliver_replies=False)).replies[-1].text
    assert answer.startswith(f"工单 {ref}") and "办理时限" in answer
    listing = InboundMessage(channel="sms", external_id=LI_XIUYING, command="status", provider_message_id="S3")
    answer = (await handle_inbound(services, listing, deliver_replies=False)).replies[-1].text
    assert "1 个未办结的工单" in answer and ref in answer


async def test_the_reference_alone_answers_that_case_instead_of_opening_another(services) -> None:
    """A resident pastes the reference the first reply gave them: that is a question about the case."""
    report = InboundMessage(channel="sms", external_id=LI_XIUYING, text="俺们楼从昨天就没水了咋弄",
                            provider_message_id="S1")  # fmt: skip
    ref = (await handle_inbound(services, report, deliver_replies=False)).case_ref
    assert ref
    for n, text in enumerate((ref, f"#{ref}", f" ＃{ref} ")):  # lower case: test_what_reads_as_a_reference_alone
        asked = InboundMessage(channel="sms", external_id=LI_XIUYING, text=text, provider_message_id=f"R{n}")
        outcome = await handle_inbound(services, asked, deliver_replies=False)
        assert not outcome.created_case and not outcome.joined_case
        assert outcome.replies[-1].text.startswith(f"工单 {ref}（供水）")
    # A word in lower case, or a number, stays words for the NLU.
    thanks = InboundMessage(channel="sms", external_id=LI_XIUYING, text="thanks", provider_message_id="T1")
    assert "工单" not in (await handle_inbound(services, thanks, deliver_replies=False)).replies[-1].text


def test_what_reads_as_a_reference_alone() -> None:
    from gridline.core.case_lookup import parse_query

    for text, ref in (("XCUYBC", "XCUYBC"), ("W4RGMD", "W4RGMD"), ("#w4rgmd", "W4RGMD"), (" ＃UVMDH8 ", "UVMDH8")):
        assert parse_query(text) == (ref, None)
    for text in ("thanks", "Thanks", "xcuybc", "123456", "HELLO1", "ABC10X", "W4RGMD 1234", "水水水水水8"):
        assert parse_query(text) is None, text

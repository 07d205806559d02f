"""A page and a staff action's answer leave routing as facts and are worded by the channel that
shows them (``bots.page_text``): the same notice is a Telegram message, a one-segment SMS with its
reply code, the words of a phone call; an action's answer is a key rendered in the actor's language."""

from __future__ import annotations

from datetime import UTC, datetime

from gridline.bots.page_text import answer_text, page_texts, said_text
from gridline.bots.telegram.render import page_text as telegram_page_text
from gridline.bots.twilio.notifiers import _page_body as sms_page_body
from gridline.bots.twilio.sms_text import segments
from gridline.i18n import t
from gridline.kernel.notify import PageNotice, said
from gridline.routing.action_result import ActionResult
from gridline.routing.chasing import OVERDUE
from gridline.settings import Settings

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def notice(**facts: object) -> PageNotice:
    defaults: dict[str, object] = dict(
        page_id=7, case_id=3, case_ref="W4RGMD", channel="sms", target="+8617000010001", bot_name="",
        staff_id=1, staff_name="龙小燕", lang="zh-CN", code=12, category="water_supply", priority="urgent",
        grid_name="ZY01-01-1 网格", address="桐柏路199号院", summary="家里停水两天了", report_count=1,
    )
    return PageNotice(**{**defaults, **facts})  # type: ignore[arg-type]


def test_one_notice_is_worded_by_each_channel() -> None:
    page = notice()
    texts = page_texts(page)
    assert "#W4RGMD" in texts.full and "家里停水两天了" in texts.full
    sms = sms_page_body(page)
    assert "回复12接单" in sms and segments(sms) == 1  # one segment, with the reply code
    hint = t("telegram.page.reply_hint", "zh-CN")
    assert telegram_page_text(page, Settings(), NOW) == texts.full + "\n\n" + hint


def test_a_chasing_page_says_its_deadline_first() -> None:
    texts = page_texts(notice(reason=OVERDUE, chase_due="12月3日 17:00"))
    assert texts.full.startswith(t("page.chase.overdue", "zh-CN", due="12月3日 17:00") + "\n")
    assert texts.short.startswith(t("page.chase.overdue_short", "zh-CN"))


def test_the_deadline_ends_the_full_page_only() -> None:
    due = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    with_due = page_texts(notice(due_at=due), Settings(), NOW)
    assert with_due.full.startswith(page_texts(notice()).full + "\n") and with_due.short == page_texts(notice()).short


def test_an_action_answer_is_a_code_and_facts_worded_in_the_actors_language() -> None:
    result = ActionResult(True, "acknowledged", said("action.acknowledged", "en", ref="W4RGMD"), "W4RGMD")
    assert answer_text(result) == t("action.acknowledged", "en", ref="W4RGMD")
    assert result.said is not None
    assert said_text(result.said, "zh-CN") == t("action.acknowledged", "zh-CN", ref="W4RGMD")


def test_a_page_of_the_policys_second_round_says_nobody_took_it_yet() -> None:
    first, again = page_texts(notice()), page_texts(notice(repeat=1))
    assert again.full == t("page.repeat", "zh-CN", n=2) + "\n" + first.full
    assert again.short == "【第2次】" + first.short and segments(sms_page_body(notice(repeat=1))) == 1
    assert page_texts(notice(repeat=1, lang="en")).full.startswith("[Page 2: still not acknowledged]\n")


def test_every_priority_and_category_reads_without_a_doubled_word() -> None:
    """「紧急紧急事件」: the priority word is not said again when the category already says it
    (紧急事件 / Emergency), in the page and in its SMS, for every priority × category in both languages."""
    from gridline.i18n import Language
    from gridline.nlu.types import ISSUE_CATEGORIES, OTHER_CATEGORY

    for lang in Language:
        for priority in ("emergency", "urgent", "normal"):
            for category in (*ISSUE_CATEGORIES, OTHER_CATEGORY):
                texts = page_texts(notice(lang=lang.value, priority=priority, category=category, summary="…"))
                word = t(f"category.{category}", lang.value).casefold()
                level = t(f"priority.{priority}", lang.value).casefold()
                for text in (texts.full.splitlines()[0], texts.short):
                    said = text.casefold()
                    assert said.count(word) == 1, (lang, priority, category, text)
                    assert said.count(level) <= 1, (lang, priority, category, text)
                    assert "  " not in text and level + level not in said, text
                assert level in texts.full.casefold(), "the page always says how urgent it is"
    zh = page_texts(notice(priority="emergency", category="emergency"))
    assert "紧急紧急" not in zh.full + zh.short and "紧急事件" in zh.short

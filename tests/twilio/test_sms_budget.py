"""Every SMS Gridline writes from a catalogue key fits its segment budget (``sms_text.SEGMENT_BUDGET``).

Each key an SMS can carry — replies to residents, their case notices and check-in questions, the
answers staff get to their texts — is rendered as the SMS notifier renders it (its SMS wording,
``SMS_VARIANTS``, then squeezed, with the choices it offers) in every language, with the longest
facts it carries in practice: the demo city's longest grid name, a four-character name, the longest
category, status and reason labels. A Chinese SMS is UCS-2: 70 characters in one segment, 67 per
segment when split; one Chinese name makes an English text UCS-2 too. A text over budget gets a
shorter SMS wording (``sms.<key>`` in gridline/i18n/twilio.toml), not cut off.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest

from gridline.bots.twilio.sms_text import (
    SEGMENT_BUDGET,
    SMS_VARIANTS,
    SMS_WORDINGS,
    UNBOUNDED,
    render_message,
    segments,
)
from gridline.bots.twilio.voice_text import VOICE_VARIANTS
from gridline.i18n import LANGUAGES, catalogue, t
from gridline.i18n.phrases import Lines, Phrase, Spaced, render
from gridline.kernel.messages import Option

ROOT = Path(__file__).resolve().parents[2]

# The keys an SMS carries, by family (a new family sent by SMS belongs here).
SMS_FAMILIES = (
    # to residents: conversation replies, case notices, status answers, check-ins and sweeps
    "conversation.", "registration.", "case.", "status.", "find_leader.", "emergency.", "core.rescue.apology",
    "transfer.resident.", "checkins.ask.sms", "checkins.ask.again", "checkins.reply.", "checkins.sweep.ask",
    "checkins.notify.", "twilio.sms.",
    # to staff: answers to their texts (pages have their own short text: tests/core/test_page_text.py)
    "twilio.staff.", "loop.sms.", "visits.log.", "visits.sms.", "action.", "transfer.done.", "transfer.refused.",
    "extension.done.", "extension.refused.", "evidence.result.",
    "rota.cover.",  # a hand-over (交班 by SMS) and its answers; a colleague asked to cover, on their first channel
    "rota.duty.",  # 「值班」 by SMS: one's shifts
    # bulk and notices whose length is what a person wrote (UNBOUNDED)
    "broadcast.text", "visits.missed.text", "text.",
)
# Labels said inside other texts (choices, summaries), never an SMS of their own.
NOT_A_MESSAGE = ("case.rate_option.", "case.split_option", "case.filed_item", "case.solved_", "case.photo_summary",
                 "case.voicemail_summary", "checkins.notify.no_helper", "rota.cover.now_words", "rota.cover.line",
                 "rota.cover.which_grid_")  # fmt: skip

# The choices a key's SMS carries (numbered lines under the text).
CATEGORIES = ("illegal_construction", "property_management", "neighbor_dispute")
OPTIONS: dict[str, tuple[Option, ...]] = {
    "case.choose_category": (*(Option(Phrase(f"category.{c}"), c) for c in CATEGORIES),
                             Option(Phrase("category.other"), "other")),
    "case.resolved_ask": (Option(Phrase("case.solved_yes"), "y"), Option(Phrase("case.solved_no"), "n")),
    "case.resolved_reminder": (Option(Phrase("case.solved_yes"), "y"), Option(Phrase("case.solved_no"), "n")),
    "case.rate_ask": tuple(Option(Phrase(f"case.rate_option.{n}"), str(n)) for n in range(1, 6)),
    "checkins.ask.sms": (Option(Phrase("checkins.option.ok"), "ok"), Option(Phrase("checkins.option.help"), "help")),
    "checkins.ask.again": (Option(Phrase("checkins.option.ok"), "ok"), Option(Phrase("checkins.option.help"), "h")),
    "checkins.sweep.ask": (Option(Phrase("checkins.option.safe"), "ok"), Option(Phrase("checkins.option.help"), "h")),
    "checkins.notify.helper": (Option(Phrase("checkins.option.going"), "going"),),
    "case.detail_added_or_new": (Option(Phrase("case.split_option", {"category": Phrase("category.other")}), "s"),),
    "case.followed_up_told_or_new": (
        Option(Phrase("case.split_option", {"category": Phrase("category.other")}), "s"),
    ),
}


def _longest_grid_name() -> str:
    grids = json.loads((ROOT / "config/demo/grids.geojson").read_text(encoding="utf-8"))
    return max((str(f["properties"].get("name", "")) for f in grids["features"]), key=len)


def _longest(prefix: str, lang: str) -> Phrase:
    """The label of ``prefix`` that is longest in ``lang``."""
    keys = [k for k in catalogue() if k.startswith(prefix)]
    return Phrase(max(keys, key=lambda k: len(t(k, lang))))


def facts(lang: str) -> dict[str, Any]:
    """The longest facts each placeholder carries in practice."""
    name = "欧阳建国"
    due = Phrase("deadline.shown", {"when": Phrase("deadline.date", {"month": 12, "day": 31, "mon": "Dec",
                                                                     "hm": "17:00"}),
                                    "left": Phrase("deadline.working_days", {"n": 10})})  # fmt: skip
    line = Phrase("status.line", {"ref": "W4RGMD", "category": _longest("category.", lang),
                                  "status": _longest("case_status.", lang), "who": name})  # fmt: skip
    reasons = [k.rsplit(".", 1)[1] for k in catalogue() if k.startswith("transfer.return_reason.")]
    numbered = Spaced(tuple(Spaced((i, Phrase(f"transfer.return_reason.{code}"))) for i, code in enumerate(reasons, 1)))
    return {
        "ref": "W4RGMD", "into": "X7KQ2P", "code": 123, "n": 9, "count": 12, "asked": 3, "mb": 10.0, "most": 30,
        "name": name, "who": name, "leader": name, "helper": name, "names": [name, "李国强"],
        "contact": "13912345678", "room": "12-3-1501", "next": "2026-12-08 20:00", "number": "0371 1234 5678",
        # an address sent alone, echoed by conversation.ask_problem
        "place": "郑州市金水区文化路街道桐柏路199号院3号楼2单元1501室",
        "grid": _longest_grid_name(), "department": "高新区城市管理局",
        "category": _longest("category.", lang), "label": _longest("category.", lang),
        "status": _longest("case_status.", lang), "due": due,
        # one message that named several problems: at most three cases, each joined by others
        "filed": [Phrase("case.filed_item_joined", {"category": _longest("category.", lang), "ref": "W4RGMD",
                                                    "count": 12}) for _ in range(3)],
        "reason": _longest("transfer.return_reason.", lang),
        "reasons": numbered,
        "choices": ["高新区城市管理局", "高新区市政园林局", "高新区供电公司"],
        # who is on duty in a base grid: its leader or a team member (core.answers.staff_role)
        "role": max((Phrase(f"staff_role.{r}") for r in ("leader", "member")), key=lambda p: len(render(p, lang))),
        # a status answer lists every open case; two are budgeted (each more takes another segment)
        "header": Phrase("status.header", {"count": 2}), "cases": Lines((line, line)),
        # a hand-over (/cover): by whom, and one shift (each more shift takes another line); 「值班」 by
        # SMS shows as many shifts as fit and counts the rest (tests/twilio/test_sms_duty.py)
        "by": name, "days": 7, "more": 99, "start": "12-30 20:00", "end": "12-31 08:00",
        # 交班 by someone on two grids' rotas: each grid with its shifts, and the command again
        "grids": Lines(tuple(Phrase("rota.cover.which_grid_line", {
            "code": code, "name": _longest_grid_name(),
            "shifts": [Phrase("rota.cover.which_grid_backup", {"day": Phrase("weekday.wed"), "start": "12-30 20:00",
                                                               "until": "12-31 08:00"})]})
            for code in ("GX01-01-1", "GX01-01-2"))),
        "example": "GX01-01-2 MBR-GX01-01-2 12-04 08:00 20:00 " + "家里有事" * 3,
        "shifts": Lines((Phrase("rota.cover.line_backup", {"day": Phrase("weekday.wed"), "start": "12-30 20:00",
                                                             "until": "12-31 08:00", "where": _longest_grid_name()}),)),
    }


def sms_keys() -> list[str]:
    return sorted(k for k in catalogue() if k.startswith(SMS_FAMILIES) and not k.startswith(NOT_A_MESSAGE))


def placeholders(key: str) -> set[str]:
    return {f for text in catalogue()[key].values() for _, f, _, _ in string.Formatter().parse(text) if f}


def sms_body(key: str, lang: str) -> str:
    sample = facts(lang)
    missing = placeholders(SMS_VARIANTS.get(key, key)) - sample.keys()
    assert not missing, f"{key}: add the longest {missing} it carries to facts()"
    text = render(Phrase(key, {name: sample[name] for name in placeholders(key)}), lang, SMS_VARIANTS.get)
    return render_message(text, OPTIONS.get(key, ()), lang)


@pytest.mark.parametrize("key", [k for k in sms_keys() if k not in UNBOUNDED])
@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_sms_fits_its_segment_budget(key: str, lang: str) -> None:
    body = sms_body(key, lang)
    assert segments(body) <= SEGMENT_BUDGET, (
        f"{key} ({lang}) takes {segments(body)} SMS segments, over the budget of {SEGMENT_BUDGET}: give it a "
        f"shorter SMS wording (sms.{key} in gridline/i18n/twilio.toml, SMS_VARIANTS).\n{body}"
    )


def test_the_unbounded_texts_are_sent_by_sms_and_say_why() -> None:
    assert set(UNBOUNDED) <= set(sms_keys()) and all(UNBOUNDED.values())


@pytest.mark.parametrize(("key", "variant"), sorted(SMS_VARIANTS.items()))
def test_an_sms_wording_says_the_same_facts_and_is_needed(key: str, variant: str) -> None:
    """Same facts as the typed text (no fact dropped, none invented), and the typed text really is
    over budget by SMS in some language — else the SMS wording is not needed (unless it is needed
    for what it says, ``SMS_WORDINGS``)."""
    assert variant in catalogue(), f"{variant} is not in the catalogue"
    assert placeholders(variant) == placeholders(key)
    if key in SMS_WORDINGS:
        assert SMS_WORDINGS[key]
        return
    typed = {lang: render_message(render(Phrase(key, {n: facts(lang)[n] for n in placeholders(key)}), lang),
                                  OPTIONS.get(key, ()), lang)
             for lang in LANGUAGES}  # fmt: skip
    if key in ("status.header", "status.line"):  # budgeted inside the status answer
        typed = {lang: render(Phrase("status.open", {"header": facts(lang)["header"], "cases": facts(lang)["cases"]}),
                              lang) for lang in LANGUAGES}  # fmt: skip
    assert max(segments(text) for text in typed.values()) > SEGMENT_BUDGET


@pytest.mark.parametrize(("key", "variant"), sorted(VOICE_VARIANTS.items()))
def test_a_voice_wording_says_no_fact_the_typed_text_lacks(key: str, variant: str) -> None:
    """A call renders its variant from the typed key's facts: a fact only the variant names would fail."""
    assert variant in catalogue() and placeholders(variant) <= placeholders(key)


def test_the_case_confirmation_in_chinese_fits_one_segment() -> None:
    """The reply every report gets stays one segment in Chinese, even in the longest grid."""
    assert segments(sms_body("case.created", "zh-CN")) == 1

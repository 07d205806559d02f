"""How urgent a resident's report is: the intent plus cue words, in one table.

Every rule below is checked; the highest priority any rule gives wins, and every rule that fired is
listed in the decision's reasons (the log shows why a case was paged as an emergency). Cues are
matched on the normalised text (half-width, lower case), so 「电梯里困住人了」 and "stuck in the lift"
both count. When in doubt the table errs towards the higher priority: a human looks at every case.

=====================  =========  =================================================================
rule                   priority   fires when
=====================  =========  =================================================================
emergency_intent       emergency  intent is ``emergency`` with confidence ≥ 0.30
possible_emergency     urgent     intent is ``emergency`` with confidence < 0.30
fire                   emergency  着火 (not 打不着火), 起火, 失火, 火灾, 烧起来, 大火, fire
gas_leak               emergency  泄漏, 漏气, 煤气味, 燃气味, 天然气味, 一股煤气, 燃气/天然气/煤气 …漏,
                                  gas leak, smell gas
person_in_danger       emergency  晕倒, 昏倒, 昏迷, 晕过去, 倒地, 不省人事, 叫不醒, 没呼吸, 没气了,
                                  喘不上气, 抽搐, 口吐白沫, 心脏病, 中风, 嘴歪, 突然说不出话,
                                  半边身子不能动 / 动不了, 半身麻木, 受伤, 流血, 摔倒,
                                  救命, 触电, 被车撞, 溺水, 落水, 掉河里/水里, 掉进…了, 跳楼, 跳河, 轻生,
                                  自杀, 割腕, 喝农药, 服毒, 中毒, 锁(在)车里; unconscious, fainted,
                                  collapsed, injured, bleeding, not breathing, heart attack, stroke,
                                  drown, suicide, overdose, poison
violence               emergency  打架, 打人, 持刀, 拿刀, 砍人, 动刀子, fight, knife
trapped_in_elevator    emergency  困 / 关在 / 出不来 / 卡住 / trapped / stuck, with intent
                                  ``elevator`` or 电梯 / lift / elevator in the text
trapped                urgent     困住, 被困, 困人, 关在里面, 出不来 (elsewhere)
electrical_danger      urgent     漏电, 冒烟, 冒火, 电线/插座/线路打火, 火花, 电线掉, 电线断, 烧焦,
                                  smoke, spark
burst_pipe             urgent     爆管, 水管/管子/管道/暖气管/水表 …爆, 喷水, 水漫, 淹了, burst
long_outage            urgent     N天没水/电/气/暖气 (N ≥ 2, 几, 好几), 一直没水/电, 一天一夜没…
vulnerable_person      urgent     独居老人, 孤寡老人, 空巢老人, 老人一个人, 残疾, 瘫痪, 卧床, 孩子,
                                  小孩, 婴儿, 孕妇, 病人, 发烧, 老人家 — with an issue intent where
                                  the person suffers from it (not noise, disputes, sanitation,
                                  construction, policy, property or road reports)
structural_danger      urgent     危墙, 要塌, 塌了, 倒塌, 坠物, 掉下来, 砸到/伤/着, 高空抛物, 井盖没了,
                                  井盖丢, 井盖坏, 大坑, collapse
urgent_words           urgent     紧急, 快来人, 赶紧来, 急死了, 十万火急, 马上来, urgent, asap
=====================  =========  =================================================================

Anything else is ``normal``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from gridline.domain.lifecycle import Priority
from gridline.nlu.text import normalise_for_classifier
from gridline.nlu.types import ISSUE_CATEGORIES, NluResult

EMERGENCY_INTENT_MIN_CONFIDENCE = 0.30
_RANK = {Priority.NORMAL: 0, Priority.URGENT: 1, Priority.EMERGENCY: 2}


@dataclass(frozen=True)
class PriorityDecision:
    priority: str
    reasons: list[str] = field(default_factory=list)


Matcher = Callable[[NluResult, str], str | None]


@dataclass(frozen=True)
class PriorityRule:
    name: str
    priority: Priority
    matches: Matcher


def _any_cue(*cues: str) -> Matcher:
    def match(_result: NluResult, text: str) -> str | None:
        return next((cue for cue in cues if cue in text), None)

    return match


def _pattern(regex: str) -> Matcher:
    compiled = re.compile(regex)

    def match(_result: NluResult, text: str) -> str | None:
        found = compiled.search(text)
        return found.group(0) if found else None

    return match


def _intent(name: str, *, at_least: float | None = None, below: float | None = None) -> Matcher:
    def match(result: NluResult, _text: str) -> str | None:
        if result.intent != name:
            return None
        if at_least is not None and result.confidence < at_least:
            return None
        if below is not None and result.confidence >= below:
            return None
        return f"intent {name} ({result.confidence:.2f})"

    return match


_IN_DANGER = (
    "晕倒",
    "昏倒",
    "昏迷",
    "晕过去",
    "倒地",
    "不省人事",
    "叫不醒",
    "没呼吸",
    "没气了",
    "喘不上气",
    "抽搐",
    "口吐白沫",
    "心脏病",
    "中风",
    "嘴歪",
    # the signs of a stroke, as a family describes them
    "突然说不出话",
    "半边身子不能动",
    "半边身子动不了",
    "半身麻木",
    "受伤",
    "流血",
    "摔倒",
    "救命",
    "触电",
    "被车撞",
    "溺水",
    "落水",
    "掉河里",
    "掉水里",
    "跳楼",
    "跳河",
    "轻生",
    "自杀",
    "割腕",
    "喝农药",
    "服毒",
    "中毒",
    "锁车里",
    "锁在车里",
    "unconscious",
    "fainted",
    "collapsed",
    "injured",
    "bleeding",
    "not breathing",
    "heart attack",
    "stroke",
    "drown",
    "suicide",
    "overdose",
    "poison",
)
_TRAPPED_CUES = ("困", "关在", "出不来", "卡住", "卡在", "trapped", "stuck")
_ELEVATOR_WORDS = ("电梯", "lift", "elevator", "梯")


def _trapped_in_elevator(result: NluResult, text: str) -> str | None:
    cue = next((c for c in _TRAPPED_CUES if c in text), None)
    if cue is None:
        return None
    if result.intent == "elevator" or any(w in text for w in _ELEVATOR_WORDS):
        return cue
    return None


_VULNERABLE = _any_cue(
    "独居老人",
    "孤寡老人",
    "空巢老人",
    "老人一个人",
    "一个人住",
    "残疾",
    "瘫痪",
    "卧床",
    "孩子",
    "小孩",
    "婴儿",
    "孕妇",
    "病人",
    "发烧",
    "老人家",
    "elderly",
    "disabled",
    "baby",
)


# A vulnerable person makes a missing service urgent; a child upstairs does not make noise urgent.
_VULNERABLE_MATTERS = frozenset(ISSUE_CATEGORIES) - {
    "noise",
    "neighbor_dispute",
    "sanitation",
    "illegal_construction",
    "policy_inquiry",
    "property_management",
    "road_facility",
}


def _vulnerable_with_issue(result: NluResult, text: str) -> str | None:
    if result.intent not in _VULNERABLE_MATTERS:
        return None
    return _VULNERABLE(result, text)


# The table. Order only affects the order of reasons; the highest priority wins.
RULES: tuple[PriorityRule, ...] = (
    PriorityRule(
        "emergency_intent", Priority.EMERGENCY, _intent("emergency", at_least=EMERGENCY_INTENT_MIN_CONFIDENCE)
    ),
    PriorityRule("possible_emergency", Priority.URGENT, _intent("emergency", below=EMERGENCY_INTENT_MIN_CONFIDENCE)),
    # 「打不着火」/「点不着火」 is a stove that will not light, not a fire.
    PriorityRule("fire", Priority.EMERGENCY, _pattern(r"(?<![不没])着火|起火|失火|火灾|烧起来|大火|\bfire\b")),
    PriorityRule(
        "gas_leak",
        Priority.EMERGENCY,
        _pattern(r"泄漏|泄露|漏气|煤气味|燃气味|天然气味|一股煤气|(?:燃气|天然气|煤气)\S{0,4}漏|gas leak|smell gas"),
    ),
    PriorityRule(
        "person_in_danger",
        Priority.EMERGENCY,
        # 「掉进…了」 is someone who fell in; 「怕孩子掉进去」 is a worry about a hazard (no 了).
        _pattern("|".join([*map(re.escape, _IN_DANGER), r"掉进\S{0,5}了"])),
    ),
    PriorityRule(
        "violence", Priority.EMERGENCY, _any_cue("打架", "打人", "持刀", "拿刀", "砍人", "动刀子", "fight", "knife")
    ),
    PriorityRule("trapped_in_elevator", Priority.EMERGENCY, _trapped_in_elevator),
    PriorityRule("trapped", Priority.URGENT, _any_cue("困住", "被困", "困人", "关在里面", "出不来")),
    PriorityRule(
        "electrical_danger",
        Priority.URGENT,
        _any_cue(
            "漏电",
            "冒烟",
            "冒火",
            "电线打火",
            "插座打火",
            "线路打火",
            "火花",
            "电线掉",
            "电线断",
            "烧焦",
            "smoke",
            "spark",
        ),
    ),
    PriorityRule(
        "burst_pipe", Priority.URGENT, _pattern(r"爆管|(?:水管|管子|管道|暖气管|水表)\S{0,3}爆|喷水|水漫|淹了|burst")
    ),
    PriorityRule(
        "long_outage",
        Priority.URGENT,
        _pattern(
            r"(?:[几两三四五六七八九十2-9]|好几)\s*天(?:了)?\s*(?:都|也|还)?\s*没(?:有)?\s*(?:水|电|气|暖气)"
            r"|一直没(?:有)?(?:水|电)|一天一夜(?:都)?没"
        ),
    ),
    PriorityRule("vulnerable_person", Priority.URGENT, _vulnerable_with_issue),
    PriorityRule(
        "structural_danger",
        Priority.URGENT,
        _any_cue(
            "危墙",
            "要塌",
            "塌了",
            "倒塌",
            "坠物",
            "掉下来",
            "砸到",
            "砸伤",
            "砸着",
            "高空抛物",
            "井盖没了",
            "井盖丢",
            "井盖坏",
            "大坑",
            "collapse",
        ),
    ),
    PriorityRule(
        "urgent_words",
        Priority.URGENT,
        _any_cue("紧急", "快来人", "赶紧来", "急死了", "十万火急", "马上来", "urgent", "asap"),
    ),
)


def assess_priority(result: NluResult) -> PriorityDecision:
    """The priority of the report behind ``result`` and the rules that decided it."""
    text = normalise_for_classifier(result.text or "")
    priority = Priority.NORMAL
    reasons: list[str] = []
    for rule in RULES:
        cue = rule.matches(result, text)
        if cue is None:
            continue
        reasons.append(f"{rule.name}: {cue} → {rule.priority.value}")
        if _RANK[rule.priority] > _RANK[priority]:
            priority = rule.priority
    return PriorityDecision(priority=priority.value, reasons=reasons)

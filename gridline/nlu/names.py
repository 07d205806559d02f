"""Each intent's own name as one more training document of that intent (issue 14: extra documents).

A label's name is what the label means, written by whoever made the data set, and it is known at
training time for every data set: the public set's labels are Chinese phrases residents might say
themselves (「在忙」, 「没钱还」, 「在山里+没信号」 → 「在山里」, 「没信号」), Gridline's are identifiers whose
Chinese names the console shows (``INTENT_NAMES``: 供水, 找网格长 …, the zh-CN names of
``console.intent`` in gridline/i18n/console.toml). Chosen by nested cross-validation in the seventh
pass (docs/nlu.md; bench/nlu_seventh.py, ``cp_labeldocs``): +2.2 points of macro-F1 on the public
set's grouped folds over the same method without them, level on Gridline's. The reject class gets
no name document (「无法识别」 is not something a resident writes).
"""

from __future__ import annotations

import re

from gridline.nlu.text import cjk_count
from gridline.nlu.types import OUT_OF_SCOPE

# Gridline's intents as the console names them (console.intent, zh-CN). Part of the model: changing
# a name changes what is trained, so bump embedded.CODE_VERSION with it.
INTENT_NAMES: dict[str, str] = {
    "water_supply": "供水",
    "power_supply": "供电",
    "gas_heating": "燃气暖气",
    "drainage": "排水",
    "sanitation": "环境卫生",
    "noise": "噪音扰民",
    "property_management": "物业服务",
    "neighbor_dispute": "邻里纠纷",
    "road_facility": "道路设施",
    "illegal_construction": "违章搭建",
    "elderly_care": "老人帮扶",
    "safety_hazard": "安全隐患",
    "public_order": "社会治安",
    "elevator": "电梯",
    "policy_inquiry": "政策咨询",
    "staff_conduct": "投诉工作人员",
    "emergency": "紧急事件",
    "find_leader": "找网格长",
    "check_status": "查询进度",
    "greet": "问候",
    "thanks": "致谢",
    "affirm": "肯定",
    "deny": "否定",
    "smalltalk": "闲聊",
}
# Where a label name written in Chinese joins several meanings: 怎么还+存哪里, 已还-未知成功（打了）.
_NAME_PARTS = re.compile(r"[+\-（）()]")


def name_documents(intent: str) -> list[str]:
    """The documents ``intent``'s name gives: its Chinese name, or the parts of a Chinese label."""
    if intent == OUT_OF_SCOPE:
        return []
    if intent in INTENT_NAMES:
        return [INTENT_NAMES[intent]]
    if cjk_count(intent) == 0:
        return []
    return [part for part in _NAME_PARTS.split(intent) if part.strip()]

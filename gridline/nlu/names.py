"""Each intent's own name as one more training document of that intent (issue 14: extra documents).

A label's name is what the label means, written by whoever made the data set, and it is known at
training time for every data set: the public set's labels are Chinese phrases residents might say
themselves (「在忙」, 「没钱还」, 「在山里+没信号」 → 「在山里」, 「没信号」), Gridline's are identifiers whose
Chinese names the console shows (``INTENT_NAMES``: 供水, 找网格长 …, the zh-CN names of
``console.intent`` in gridline/i18n/console.toml). Chosen by nested cross-validation in the seventh
pass (docs/nlu.md; bench/nlu_seventh.py, ``cp_labeldocs``): +2.2 points of macro-F1 on the public
set's grouped folds over the same method without them, level on Gridline's. The reject class gets
no name document (「无法识别」 is not something a resident writes).

Gridline's categories also get the words docs/nlu.md's Taxonomy gives them (``TAXONOMY_WORDS``: 停水,
水压 …, 报警, 报案 for ``public_order``), one document each (session 12): 报警 was in two training
sentences, so 「我想报警」 was rejected as chit-chat and 「俺要报警」 was ``public_order`` at 0.46.
Gridline's CLI cross-validation 0.850 → 0.853, grouped 0.837 → 0.842, held-out unchanged.
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
# The words docs/nlu.md's Taxonomy gives each category (what the category is), each one more document
# of it, beside the name. Part of the model, like the names.
TAXONOMY_WORDS: dict[str, tuple[str, ...]] = {
    "water_supply": ("停水", "水压", "水质", "爆管"),
    "power_supply": ("停电", "跳闸", "保险丝", "电线"),
    "gas_heating": ("燃气", "暖气"),
    "drainage": ("下水道", "污水", "积水"),
    "sanitation": ("垃圾", "卫生", "小广告"),
    "noise": ("噪音", "扰民", "报警器响"),
    "property_management": ("物业服务与收费", "楼道灯"),
    "road_facility": ("路灯", "井盖", "道路", "红绿灯"),
    "elderly_care": ("独居老人", "孤寡老人", "残疾人帮扶"),
    "safety_hazard": ("楼道充电", "消防通道", "坠物", "危墙"),
    "public_order": ("盗窃", "可疑人员", "诈骗", "报警", "报案"),
    "elevator": ("电梯故障", "电梯困人"),
    "policy_inquiry": ("低保", "社保", "证明", "补贴"),
    "emergency": ("着火", "燃气泄漏", "晕倒", "受伤"),
}
# Where a label name written in Chinese joins several meanings: 怎么还+存哪里, 已还-未知成功（打了）.
_NAME_PARTS = re.compile(r"[+\-（）()]")


def name_documents(intent: str) -> list[str]:
    """The documents ``intent``'s name gives: its Chinese name, or the parts of a Chinese label."""
    if intent == OUT_OF_SCOPE:
        return []
    if intent in INTENT_NAMES:
        return [INTENT_NAMES[intent], *TAXONOMY_WORDS.get(intent, ())]
    if cjk_count(intent) == 0:
        return []
    return [part for part in _NAME_PARTS.split(intent) if part.strip()]

"""A complaint about the people who serve the resident (投诉工作人员): 「网格长一直不接电话，太不负责了」.

Read as "who is my grid leader?" it was answered with that leader's name — the person complained
about; filed in another category it went to them. The words name a grid worker or official and say
what they did wrong (or say 投诉); ``core.reports`` files them as ``staff_conduct``, which the
escalation settings route above the grid (``cases.escalation_by_category``). A property company
(物业) is not staff: 「物业不管」 is a property matter.
"""

from __future__ import annotations

import re

from gridline.nlu.types import NluResult

_STAFF = re.compile(
    r"网格长|网格员|网格管理员|网格的人|社区(的)?(工作人员|干部|书记|主任|的人)|居委会|街道(办)?(的人|干部|工作人员)"
    r"|工作人员|社区"
    r"|\b(grid (leader|worker|staff)|community (staff|worker|officials?)|the leader|staff member|official)s?\b",
    re.IGNORECASE,
)
_WRONG = re.compile(
    r"不接电话|电话(打不通|不接|没人接)|挂(我)?电话|不回(消息|复|信息|话)|不理|不管事|从来不管|不负责|不作为|乱作为"
    r"|态度(差|恶劣|不好|很差|太差|很凶|凶)|很凶|爱答不理|爱理不理|难听|骂人|打人|推诿|推来推去|推脱|踢皮球|敷衍|糊弄|刁难|为难"
    r"|吃拿卡要|收(红包|好处|礼|钱)|送礼|没来(过)?就|根本没来|拖拉|拖着不办|不给办|不办事|效率(太)?低|投诉"
    r"|\b(rude|ignor(es|ed|ing)|never (answers?|came|comes|replies)|hung up|won'?t answer|doesn'?t answer"
    r"|complain(t|ing)?|bribe|useless|without (ever )?coming)\b",
    re.IGNORECASE,
)
_PROPERTY_ONLY = re.compile(r"物业")


COMPLAINT_CATEGORY = "staff_conduct"


def complaint_not_otherwise_read(nlu: NluResult, text: str | None, threshold: float) -> bool:
    """A complaint about staff in words the model did not confidently read as one, nor as another
    problem (「楼道灯坏了一个月，网格员也不管」 is the lamp, with the complaint in its words)."""
    if nlu.is_issue and nlu.confidence >= threshold:
        return False  # the model's reading stands, staff_conduct included
    return complaint_about_staff(text)


def complaint_about_staff(text: str | None) -> bool:
    """Whether the words complain about a grid worker or official."""
    if not text:
        return False
    staff = _STAFF.search(text)
    if staff is None:
        return False
    if staff.group(0) == "社区" and _PROPERTY_ONLY.search(text):
        return False  # 「社区物业不管」: the property company of the compound
    return _WRONG.search(text) is not None

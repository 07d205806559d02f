"""回访: a follow-up call to the resident by a supervisor who did not handle the case.

Created when a resident never answers "解决了吗？" (after one reminder) or rates the case 1–2; the
call's outcome is what the 满意率 and 解决率 believe, not the holder's word.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from gridline.storage.types import JSONType, UTCDateTime


class FollowUp(SQLModel, table=True):
    __tablename__ = "follow_ups"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    reason: str = Field(max_length=16, description="no_answer | low_rating")
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # Staff ids that may not make the call: whoever acknowledged or resolved the case.
    handled_by: list[int] = Field(default_factory=list, sa_type=JSONType)
    called_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    called_by: str | None = Field(default=None, max_length=100, description="console:<user>")
    outcome: str | None = Field(default=None, max_length=16, description="satisfied | not_solved | unreachable")
    note: str | None = Field(default=None, max_length=2000)

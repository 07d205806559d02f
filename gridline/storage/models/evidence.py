"""Evidence of the fix (现场照片) and the 回访 calls Gridline places.

A photo's bytes are kept in the blob store (``storage.blobs``) under their sha256: the same bytes are
stored once, however many rows point at them. A row is the photo's place on one case: who attached
it, from which channel, with which note.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from gridline.storage.types import UTCDateTime


class Evidence(SQLModel, table=True):
    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("case_id", "sha256", name="uq_evidence_case_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: str = Field(default="photo", max_length=16, description="photo")
    # NULL once purged by the retention policy (the bytes are gone too).
    sha256: str | None = Field(default=None, max_length=64, index=True)
    content_type: str = Field(max_length=32, description="image/jpeg | image/png | image/webp")
    size: int = 0
    note: str | None = Field(default=None, max_length=2000)
    channel: str = Field(max_length=16, description="telegram | sms | console | inbox | department")
    actor: str = Field(max_length=100, description="staff:<id> | console:<user>")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FollowUpCall(SQLModel, table=True):
    """One 回访 call placed by Gridline to the resident for a follow-up task (routing.followup_calls)."""

    __tablename__ = "follow_up_calls"

    id: int | None = Field(default=None, primary_key=True)
    follow_up_id: int = Field(foreign_key="follow_ups.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    status: str = Field(max_length=16, description="routing.followup_calls.CallStatus")
    placed_by: str = Field(max_length=100, description="console:<user>")
    placed_at: datetime = Field(sa_type=UTCDateTime)
    status_at: datetime = Field(sa_type=UTCDateTime)
    call_sid: str | None = Field(default=None, max_length=64, index=True)
    rating: int | None = None
    error: str | None = Field(default=None, max_length=500)

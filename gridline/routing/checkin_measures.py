"""平安守护 measures: check-ins asked and answered (response rate) and the minutes from silence to a
person at the door."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from gridline.kernel.work import Work, in_transaction
from gridline.routing.checkin_states import CheckInStatus
from gridline.storage import checkin_measures as store
from gridline.storage.models import CheckIn

if TYPE_CHECKING:
    from gridline.kernel.services import Services


@dataclass
class CheckInMeasures:
    asked: int
    answered: int
    response_rate: float | None
    missed: int
    help: int
    # Minutes from the first silent window to a person acknowledging (the helper going, a case acknowledged).
    door_minutes: list[float]

    @property
    def median_door_minutes(self) -> float | None:
        values = sorted(self.door_minutes)
        if not values:
            return None
        middle = len(values) // 2
        return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def door_minutes(checkin: CheckIn, acks: dict[int, datetime]) -> float | None:
    """Minutes from the first silent window to a person going to the door (the helper's "1", or staff
    acknowledging the case the check-in opened); None if it was never silent or nobody went yet."""
    if checkin.silent_at is None:
        return None
    silent = checkin.silent_at
    moments = [m for m in (checkin.attended_at, acks.get(checkin.case_id or 0)) if m is not None and m >= silent]
    return (min(moments) - silent).total_seconds() / 60 if moments else None


def measures(work: Work, since: datetime, grid_codes: frozenset[str] | None = None) -> CheckInMeasures:
    """Check-ins asked since ``since`` (in these grids): response rate, silence to a person at the door."""
    rows = [c for c in store.daily_since(work.session, since, grid_codes) if c.asked_at is not None]
    answered = [c for c in rows if c.answered_at is not None]
    acks = store.case_acknowledged_at(work.session, [c.case_id for c in rows if c.case_id])
    door = [m for m in (door_minutes(c, acks) for c in rows) if m is not None]
    return CheckInMeasures(
        asked=len(rows), answered=len(answered),
        response_rate=(len(answered) / len(rows)) if rows else None,
        missed=sum(1 for c in rows if c.status == CheckInStatus.MISSED),
        help=sum(1 for c in rows if c.status == CheckInStatus.HELP), door_minutes=door,
    )  # fmt: skip


async def checkin_measures(services: Services, since: datetime) -> CheckInMeasures:
    return await in_transaction(services, measures, since)

"""Rows for console tests, written straight into the tables (as the core would have stored them).

Times are relative to the fake clock; staff and grids come from the demo city (config/demo).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select

from gridline.kernel.services import Services
from gridline.storage.models import (
    Acknowledgement,
    Case,
    CaseEvent,
    ChannelIdentity,
    Conversation,
    Message,
    Page,
    Resident,
    Staff,
)

ACK_SLA = timedelta(minutes=60)
RESOLVE_SLA = timedelta(hours=72)


def nlu_result(
    text: str, intent: str, confidence: float, entities: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What the core stores in ``Message.nlu`` (Rasa's /model/parse shape)."""
    runner_up = "noise" if intent != "noise" else "water_supply"
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [
            {"name": intent, "confidence": confidence},
            {"name": runner_up, "confidence": round((1 - confidence) * 0.6, 3)},
        ],
        "entities": entities or [],
        "engine": "embedded",
        "model_version": "test",
        "note": None,
    }


@dataclass
class CaseFactory:
    services: Services
    _refs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _phones: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def now(self) -> datetime:
        return self.services.clock.now()

    def staff_id(self, code: str) -> int:
        with self.services.db.session() as session:
            staff = session.exec(select(Staff).where(Staff.code == code)).one()
            assert staff.id is not None
            return staff.id

    def case(
        self,
        *,
        grid: str | None = "GX01-01-1",
        text: str = "俺家停水了，桐柏路199号院3号楼",
        category: str = "water_supply",
        priority: str = "normal",
        channel: str = "telegram",
        created: datetime | None = None,
        ack_after: timedelta | None = None,
        resolve_after: timedelta | None = None,
        staff: str | None = None,
        rating: int | None = None,
        confidence: float = 0.92,
        phone: str | None = None,
        handle: str | None = None,
        reply: str | None = "已受理，网格长会尽快联系您。",
        status: str | None = None,
        paged: list[str] | None = None,
        explanation: list[dict[str, Any]] | None = None,
    ) -> Case:
        """A case with its resident, identity, conversation, inbound message (with NLU), reply,
        pages to ``paged`` (default: ``staff``) and, when ``ack_after`` is given, an acknowledgement."""
        created = created or self.now
        n = next(self._refs)
        phone = phone or f"+8613800{next(self._phones):06d}"
        staff_id = self.staff_id(staff) if staff else None
        acked_at = created + ack_after if ack_after is not None else None
        resolved_at = created + resolve_after if resolve_after is not None else None
        if status is None:
            status = "resolved" if resolved_at else "acknowledged" if acked_at else "paged"
        with self.services.db.session() as session:
            resident = Resident(phone=phone, grid_code=grid, created_at=created)
            session.add(resident)
            session.flush()
            identity = ChannelIdentity(
                channel=channel,
                external_id=phone if channel in ("sms", "voice") else str(9000000 + n),
                resident_id=resident.id,
                display=handle,
                created_at=created,
            )
            session.add(identity)
            session.flush()
            conversation = Conversation(channel=channel, identity_id=identity.id, resident_id=resident.id,
                                        started_at=created, last_message_at=created)
            session.add(conversation)
            session.flush()
            case = Case(
                ref=f"T{n:05d}",
                resident_id=resident.id,
                grid_code=grid,
                category=category,
                priority=priority,
                status=status,
                channel=channel,
                summary=text,
                nlu_confidence=confidence,
                explanation=explanation
                if explanation is not None
                else [
                    {"decision": "grid", "grid_code": grid, "reason": "resident registered in this grid"},
                    {"decision": "category", "category": category, "reason": f"NLU {confidence:.2f}"},
                ],
                assignee_staff_id=staff_id,
                acknowledged_by=staff_id if acked_at else None,
                resolved_by=staff_id if resolved_at else None,
                rating=rating,
                created_at=created,
                updated_at=resolved_at or acked_at or created,
                acknowledged_at=acked_at,
                resolved_at=resolved_at,
                closed_at=resolved_at if status == "closed" else None,
                ack_due_at=created + ACK_SLA,
                resolve_due_at=created + RESOLVE_SLA,
            )
            session.add(case)
            session.flush()
            assert case.id is not None
            session.add(Message(
                conversation_id=conversation.id, case_id=case.id, direction="in", channel=channel,
                sender_kind="resident", resident_id=resident.id, identity_id=identity.id, text=text,
                nlu=nlu_result(text, category, confidence), intent=category, confidence=confidence,
                created_at=created, status="received",
            ))
            if reply:
                session.add(Message(
                    conversation_id=conversation.id, case_id=case.id, direction="out", channel=channel,
                    sender_kind="system", resident_id=resident.id, identity_id=identity.id, text=reply,
                    created_at=created + timedelta(seconds=2), status="delivered",
                ))
            session.add(CaseEvent(case_id=case.id, at=created, kind="created", actor="system",
                                  data={"grid": grid, "category": category}))
            for code in paged if paged is not None else ([staff] if staff else []):
                sid = self.staff_id(code)
                page = Page(case_id=case.id, staff_id=sid, channel="sms", target="+8617000000001",
                            reason="on_duty_leader", status="acknowledged" if acked_at and sid == staff_id else "sent",
                            created_at=created + timedelta(seconds=5), sent_at=created + timedelta(seconds=6),
                            acknowledged_at=acked_at if sid == staff_id else None, code=n)
                session.add(page)
                session.flush()
                if acked_at and sid == staff_id:
                    session.add(Acknowledgement(case_id=case.id, page_id=page.id, staff_id=sid, channel="sms",
                                                at=acked_at))
            return case

    def message(self, case: Case, text: str, *, intent: str = "water_supply", confidence: float = 0.9,
                at: datetime | None = None) -> Message:
        """Another inbound resident message on ``case``'s conversation."""
        with self.services.db.session() as session:
            first = session.exec(select(Message).where(Message.case_id == case.id, Message.direction == "in")).first()
            assert first is not None
            message = Message(
                conversation_id=first.conversation_id, case_id=case.id, direction="in", channel=first.channel,
                sender_kind="resident", resident_id=first.resident_id, identity_id=first.identity_id, text=text,
                nlu=nlu_result(text, intent, confidence), intent=intent, confidence=confidence,
                created_at=at or self.now, status="received",
            )
            session.add(message)
            session.flush()
            return message


# What residents write, per category (the demo city's streets and compounds).
SAMPLE_TEXTS: dict[str, list[str]] = {
    "water_supply": [
        "俺家停水了，桐柏路199号院3号楼咋回事", "红松嘉园5号楼一早就没水，啥时候来水？", "莲花苑水管爆了，楼道里全是水",
    ],
    "power_supply": ["颍河路56号院2号楼停电了，保险丝烧了", "合欢里晚上突然没电了，老人在家害怕"],
    "noise": ["楼上半夜装修，吵得睡不着", "广场舞音响太大声了，中不中管管"],
    "elderly_care": ["隔壁孤寡老人两天没出门了，麻烦去看看", "俺娘一个人住，腿脚不方便，想申请上门照顾"],
    "property_management": ["物业不管垃圾清运，小区门口堆成山了", "电梯坏了一周物业还不修"],
    "sanitation": ["路边垃圾桶满了没人收", "小区下水道反味，臭得很"],
    "road_facility": ["梧桐街路灯坏了三个，晚上黑乎乎的", "人行道砖松了，老人差点摔倒"],
    "neighbor_dispute": ["邻居把电动车停在楼道里充电，说了不听"],
}
GRID_LEADERS = {
    "GX01-01-1": "LDR-GX01-01-1", "GX01-01-2": "LDR-GX01-01-2", "GX01-02-1": "LDR-GX01-02-1",
    "GX01-03-2": "LDR-GX01-03-2", "GX02-01-1": "LDR-GX02-01-1", "GX02-02-2": "LDR-GX02-02-2",
}


def populate_city(factory: CaseFactory, days: int = 14, per_day: int = 6, seed: int = 7) -> list[Case]:
    """A fortnight of cases across the demo city, with realistic spread of times and ratings."""
    import random

    rng = random.Random(seed)
    cases = []
    now = factory.now
    for day in range(days, 0, -1):
        for _ in range(rng.randint(max(1, per_day - 3), per_day + 3)):
            grid = rng.choice(list(GRID_LEADERS))
            category = rng.choice(list(SAMPLE_TEXTS))
            created = now - timedelta(days=day - 1, hours=rng.randint(0, 9), minutes=rng.randint(0, 59))
            acked = rng.random() < 0.9
            ack_after = timedelta(minutes=rng.choice([2, 4, 7, 12, 20, 35, 50, 75, 140])) if acked else None
            resolved = acked and rng.random() < 0.75 and day > 1
            resolve_after = None
            if resolved and ack_after:
                resolve_after = ack_after + timedelta(hours=rng.choice([1, 3, 6, 20, 48, 90]))
            cases.append(factory.case(
                grid=grid,
                category=category,
                text=rng.choice(SAMPLE_TEXTS[category]),
                channel=rng.choice(["telegram", "telegram", "sms", "voice"]),
                priority=rng.choice(["normal", "normal", "normal", "urgent", "emergency"]),
                created=created,
                ack_after=ack_after,
                resolve_after=resolve_after,
                staff=GRID_LEADERS[grid],
                rating=rng.choice([5, 5, 4, 4, 3, 2, 1, None]) if resolved else None,
                confidence=round(rng.uniform(0.3, 0.98), 2),
            ))
    return cases

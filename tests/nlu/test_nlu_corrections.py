"""Supervisors' corrections become training data, once each, with an audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from gridline.clock import FakeClock
from gridline.nlu.corrections import CorrectionError, export_corrections, record_correction
from gridline.nlu.training_data import load_nlu_yaml
from gridline.storage.db import Database
from gridline.storage.models import AuditLog, Message, NluCorrection


@dataclass
class CorrectionServices:
    db: Database
    clock: FakeClock


@pytest.fixture
def services(tmp_path: Path) -> Iterator[CorrectionServices]:
    db = Database(f"sqlite:///{tmp_path / 'corrections.db'}")
    db.create_all()
    yield CorrectionServices(db=db, clock=FakeClock())
    db.dispose()


def store_message(
    services: CorrectionServices, text: str | None, intent: str = "water_supply", direction: str = "in"
) -> int:
    with services.db.session() as session:
        message = Message(
            direction=direction,
            channel="telegram",
            text=text,
            intent=intent,
            confidence=0.41,
            created_at=services.clock.now(),
        )
        session.add(message)
        session.flush()
        assert message.id is not None
        return message.id


def test_a_correction_keeps_the_text_and_both_labels_and_is_audited(services: CorrectionServices) -> None:
    message_id = store_message(services, "楼上滴水滴到俺家，说了不管")
    correction = record_correction(services, message_id, "neighbor_dispute", "console:wang")
    assert correction.text == "楼上滴水滴到俺家，说了不管"
    assert (correction.original_intent, correction.corrected_intent) == ("water_supply", "neighbor_dispute")
    assert correction.corrected_by == "console:wang"
    with services.db.session() as session:
        audit = session.exec(select(AuditLog).where(AuditLog.action == "nlu.correct")).one()
    assert audit.actor == "console:wang"
    assert audit.target_id == str(message_id)
    assert audit.detail["to"] == "neighbor_dispute"


def test_a_second_correction_before_export_replaces_the_first(services: CorrectionServices) -> None:
    message_id = store_message(services, "楼上滴水滴到俺家")
    record_correction(services, message_id, "drainage", "console:wang")
    record_correction(services, message_id, "neighbor_dispute", "console:li")
    with services.db.session() as session:
        rows = session.exec(select(NluCorrection)).all()
    assert [(r.corrected_intent, r.corrected_by) for r in rows] == [("neighbor_dispute", "console:li")]


@pytest.mark.parametrize(
    ("intent", "text", "direction", "problem"),
    [
        ("plumbing", "楼上滴水", "in", "unknown intent"),
        ("noise", None, "in", "not an inbound text"),
        ("noise", "已受理", "out", "not an inbound text"),
    ],
)
def test_bad_corrections_are_refused(
    services: CorrectionServices, intent: str, text: str | None, direction: str, problem: str
) -> None:
    message_id = store_message(services, text, direction=direction)
    with pytest.raises(CorrectionError, match=problem):
        record_correction(services, message_id, intent, "console:wang")


def test_an_unknown_message_is_refused(services: CorrectionServices) -> None:
    with pytest.raises(CorrectionError, match="no message"):
        record_correction(services, 999, "noise", "console:wang")


def test_export_writes_rasa_yaml_once(services: CorrectionServices, tmp_path: Path) -> None:
    first = store_message(services, "楼上滴水滴到俺家")
    second = store_message(services, "电动车在楼道\n充电")
    record_correction(services, first, "neighbor_dispute", "console:wang")
    record_correction(services, second, "safety_hazard", "console:wang")

    out = tmp_path / "corrections.yml"
    assert export_corrections(services, out) == 2
    exported = load_nlu_yaml(out)
    assert [(e.text, e.intent) for e in exported.examples] == [
        ("楼上滴水滴到俺家", "neighbor_dispute"),
        ("电动车在楼道 充电", "safety_hazard"),
    ]

    services.clock.advance(timedelta(minutes=5))
    again = tmp_path / "again.yml"
    assert export_corrections(services, again) == 0
    assert not again.exists()
    with services.db.session() as session:
        rows = session.exec(select(NluCorrection)).all()
        assert all(r.exported_at is not None for r in rows)
        assert session.exec(select(AuditLog).where(AuditLog.action == "nlu.export_corrections")).one()

    # A correction after the export goes into the next file only.
    record_correction(services, first, "water_supply", "console:li")
    assert export_corrections(services, again) == 1
    assert [e.intent for e in load_nlu_yaml(again).examples] == ["water_supply"]

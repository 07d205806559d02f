"""Supervisors' corrections of NLU labels, and their export as Rasa training data.

A supervisor reading a conversation in the console sees that 「楼上滴水滴到俺家」 was labelled
``water_supply`` and corrects it to ``neighbor_dispute``. :func:`record_correction` keeps the text, the
original label and the new one (and writes the audit log); :func:`export_corrections` writes every
correction not exported yet as a Rasa NLU file to review and merge into ``config/nlu/train.yml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from gridline.clock import Clock
from gridline.nlu.training_data import TrainingData, TrainingExample, write_nlu_yaml
from gridline.nlu.types import ALL_INTENTS
from gridline.storage import conversations
from gridline.storage.audit import record as audit
from gridline.storage.db import Database
from gridline.storage.models import Message, NluCorrection


class Services(Protocol):
    """What corrections need of :class:`gridline.kernel.services.Services` (the CLI passes less)."""

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...


class CorrectionError(ValueError):
    """The correction cannot be recorded (unknown intent, unknown or unusable message)."""


def record_correction(services: Services, message_id: int, corrected_intent: str, by: str) -> NluCorrection:
    """Record that message ``message_id`` means ``corrected_intent``, according to ``by``.

    A second correction of the same message before it is exported replaces the first (the latest
    judgement wins); both are in the audit log.
    """
    if corrected_intent not in ALL_INTENTS:
        raise CorrectionError(f"unknown intent {corrected_intent!r}; expected one of {', '.join(ALL_INTENTS)}")
    now = services.clock.now()
    with services.db.session() as session:
        message = session.get(Message, message_id)
        if message is None:
            raise CorrectionError(f"no message {message_id}")
        if message.direction != "in" or not (message.text or "").strip():
            raise CorrectionError(f"message {message_id} is not an inbound text message")
        correction = conversations.unexported_correction(session, message_id)
        if correction is None:
            correction = NluCorrection(
                message_id=message_id,
                text=message.text or "",
                original_intent=message.intent,
                corrected_intent=corrected_intent,
                corrected_by=by,
                created_at=now,
            )
        else:
            correction.corrected_intent = corrected_intent
            correction.corrected_by = by
            correction.created_at = now
        session.add(correction)
        audit(
            session,
            at=now,
            actor=by,
            action="nlu.correct",
            target_kind="message",
            target_id=message_id,
            detail={"from": message.intent, "to": corrected_intent, "confidence": message.confidence},
        )
        session.flush()
        session.refresh(correction)
        return correction


def export_corrections(services: Services, path: str | Path) -> int:
    """Write corrections not exported yet to ``path`` (Rasa NLU YAML), mark them exported, count them.

    Nothing is written when there is nothing new.
    """
    now = services.clock.now()
    with services.db.session() as session:
        pending = conversations.unexported_corrections(session)
        if not pending:
            return 0
        data = TrainingData(
            examples=[TrainingExample(text=" ".join(c.text.split()), intent=c.corrected_intent) for c in pending]
        )
        comment = (
            f"{len(pending)} NLU corrections by supervisors, exported {now.isoformat()}.\n"
            "Review: in the extra/ folder beside train.yml these are trained on; delete what should not be."
        )
        write_nlu_yaml(data, path, comment=comment)
        for correction in pending:
            correction.exported_at = now
            session.add(correction)
        audit(
            session,
            at=now,
            actor="cli",
            action="nlu.export_corrections",
            target_kind="nlu_corrections",
            detail={"count": len(pending), "path": str(path)},
        )
        return len(pending)

"""The one result shape both NLU engines return (a superset of Rasa's ``/model/parse``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

ISSUE_CATEGORIES: tuple[str, ...] = (
    "water_supply",
    "power_supply",
    "gas_heating",
    "drainage",
    "sanitation",
    "noise",
    "property_management",
    "neighbor_dispute",
    "road_facility",
    "illegal_construction",
    "elderly_care",
    "safety_hazard",
    "public_order",
    "elevator",
    "policy_inquiry",
    "staff_conduct",  # 投诉工作人员: a complaint about a grid worker or official (routed above them)
    "emergency",
)
CONVERSATION_INTENTS: tuple[str, ...] = (
    "find_leader",
    "check_status",
    "greet",
    "thanks",
    "affirm",
    "deny",
    "smalltalk",  # questions about Gridline itself (你是机器人吗, 你会干啥, 测试): a friendly answer
)
ALL_INTENTS: tuple[str, ...] = ISSUE_CATEGORIES + CONVERSATION_INTENTS
ENTITY_TYPES: tuple[str, ...] = ("address", "compound", "building", "unit", "room")
# Intent used when nothing fits; such requests go to triage, never dropped.
OUT_OF_SCOPE = "nlu_fallback"
# Category of a case whose problem is not understood (triage queue).
OTHER_CATEGORY = "other"


@dataclass(frozen=True)
class Entity:
    entity: str
    value: str
    start: int
    end: int
    extractor: str = ""
    confidence: float | None = None


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True)
class NluResult:
    """What Gridline uses from either engine."""

    text: str
    intent: str
    confidence: float
    ranking: list[IntentScore] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    engine: str = "embedded"
    model_version: str = ""
    # Set when the result came from a fallback (e.g. Rasa down → embedded) or the text was not usable.
    note: str | None = None
    # The first 12 hex digits of the training data's fingerprint (embedded engine; empty for Rasa,
    # whose model file name is already a hash of its data and pipeline).
    data_hash: str = ""

    @property
    def is_issue(self) -> bool:
        return self.intent in ISSUE_CATEGORIES

    def entity(self, name: str) -> str | None:
        for ent in self.entities:
            if ent.entity == name:
                return ent.value
        return None

    def to_rasa(self) -> dict[str, Any]:
        """Rasa ``/model/parse`` shape plus ``engine`` / ``model_version`` / ``data_hash`` / ``note``."""
        return {
            "text": self.text,
            "intent": {"name": self.intent, "confidence": self.confidence},
            "intent_ranking": [asdict(s) for s in self.ranking],
            "entities": [asdict(e) for e in self.entities],
            "engine": self.engine,
            "model_version": self.model_version,
            "data_hash": self.data_hash,
            "note": self.note,
        }

    @classmethod
    def from_rasa(cls, data: dict[str, Any], *, engine: str = "rasa", model_version: str = "") -> NluResult:
        intent = data.get("intent") or {}
        return cls(
            text=data.get("text", ""),
            intent=intent.get("name") or OUT_OF_SCOPE,
            confidence=float(intent.get("confidence") or 0.0),
            # The ranking lists intents a text can be (as the embedded engine's does): a DIET model trained
            # with the reject class ranks "nlu_fallback" among them, which is a verdict, not an intent.
            ranking=[
                IntentScore(r["name"], float(r["confidence"]))
                for r in data.get("intent_ranking") or []
                if r.get("name") != OUT_OF_SCOPE
            ],
            entities=[
                Entity(
                    entity=e["entity"],
                    value=str(e.get("value", "")),
                    start=int(e.get("start", 0)),
                    end=int(e.get("end", 0)),
                    extractor=e.get("extractor", ""),
                    confidence=e.get("confidence_entity"),
                )
                for e in data.get("entities") or []
            ],
            engine=data.get("engine", engine),
            model_version=data.get("model_version", model_version),
            note=data.get("note"),
            data_hash=str(data.get("data_hash") or ""),
        )


class NluEngine(Protocol):
    """Anything that classifies a resident's text."""

    name: str

    async def parse(self, text: str) -> NluResult: ...

"""Escalation policies: ordered steps of (whom to notify, how long to wait), repeated N times.

The policy for a case's priority is snapshotted onto the case when it starts, so editing the
configuration never changes what happens to a case already under way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gridline.settings import Settings
from gridline.settings.cases import EscalationPolicySettings, default_policy

# Whom a step may notify. Resolved by ``gridline.routing.targets``.
TARGETS = (
    "on_duty_leader",
    "backup",
    "leader",
    "level2_contact",
    "level1_contact",
    "department",
    "supervisors",
)


@dataclass(frozen=True)
class EscalationStep:
    notify: tuple[str, ...]
    wait_minutes: float


@dataclass(frozen=True)
class EscalationPolicy:
    priority: str
    steps: tuple[EscalationStep, ...]
    repeat: int = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "priority": self.priority,
            "repeat": self.repeat,
            "steps": [{"notify": list(s.notify), "wait_minutes": s.wait_minutes} for s in self.steps],
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> EscalationPolicy:
        return cls(
            priority=data.get("priority", "normal"),
            repeat=int(data.get("repeat", 0)),
            steps=tuple(EscalationStep(tuple(s["notify"]), float(s["wait_minutes"])) for s in data.get("steps", [])),
        )


class PolicyError(ValueError):
    pass


def policy_for(settings: Settings, priority: str, category: str | None = None) -> EscalationPolicy:
    """The configured policy for ``priority`` (falls back to ``normal``), or the one
    ``cases.escalation_by_category`` names for ``category`` (not for an emergency)."""
    named = settings.cases.escalation_by_category.get(category or "") if priority != "emergency" else None
    by_category = (settings.cases.escalation.get(named) or default_policy(named)) if named else None
    if by_category is not None:
        return _policy(named or priority, by_category)
    configured = settings.cases.escalation.get(priority) or settings.cases.escalation["normal"]
    return _policy(priority, configured)


def _policy(priority: str, configured: EscalationPolicySettings) -> EscalationPolicy:
    steps = []
    for index, step in enumerate(configured.steps):
        unknown = [t for t in step.notify if t not in TARGETS]
        if unknown:
            raise PolicyError(f"escalation policy {priority!r} step {index + 1}: unknown target(s) {unknown}")
        steps.append(EscalationStep(tuple(step.notify), step.wait_minutes))
    if not steps:
        raise PolicyError(f"escalation policy {priority!r} has no steps")
    return EscalationPolicy(priority=priority, steps=tuple(steps), repeat=configured.repeat)


TRIAGE_POLICY = EscalationPolicy(
    priority="triage",
    steps=(EscalationStep(("supervisors",), 15), EscalationStep(("level1_contact", "supervisors"), 30)),
    repeat=2,
)

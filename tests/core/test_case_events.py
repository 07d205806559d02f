"""Case events are typed: one kind list, a text for each kind in both languages, one renderer for
every timeline, and nothing records a kind the list does not have."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gridline.domain.case_events import PAYLOADS, CaseEventKind
from gridline.i18n import LANGUAGES, catalogue
from gridline.i18n.case_events import describe_event, event_title

ROOT = Path(__file__).resolve().parents[2] / "gridline"
RECORDERS = {"record_event", "transition"}


@pytest.mark.parametrize("kind", list(CaseEventKind))
def test_every_kind_has_a_title_in_every_language_and_a_payload(kind: CaseEventKind) -> None:
    entry = catalogue().get(f"console.event.{kind.value}")
    assert entry is not None, f"console.event.{kind.value} is missing from the catalogue"
    assert all(entry.get(lang) for lang in LANGUAGES)
    assert kind in PAYLOADS


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", list(CaseEventKind))
def test_every_kind_renders_from_its_payload(kind: CaseEventKind, lang: str) -> None:
    data = {key: "x" for key in PAYLOADS[kind]} | {"rating": 4, "count": 2, "people": [{"name": "龙晓燕"}]}
    text = describe_event(kind.value, data, "system", lang)
    assert text and "{" not in text
    assert event_title(kind.value, lang) != kind.value


def test_a_row_of_an_unknown_kind_still_shows_by_name() -> None:
    assert describe_event("retired_kind", {}, "system", "en") == "retired_kind"


def test_record_event_refuses_a_kind_not_in_the_list() -> None:
    from gridline.routing.timeline import record_event

    with pytest.raises(ValueError, match="not_a_kind"):
        record_event(None, 1, "not_a_kind")  # type: ignore[arg-type]  # refused before any work is touched


def test_every_literal_kind_recorded_in_the_code_is_in_the_list() -> None:
    known = {kind.value for kind in CaseEventKind}
    unknown = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in RECORDERS:
                continue
            literals = [k.value for k in node.keywords if k.arg == "kind" and isinstance(k.value, ast.Constant)]
            if name == "record_event" and len(node.args) >= 3 and isinstance(node.args[2], ast.Constant):
                literals.append(node.args[2])
            for literal in literals:
                if isinstance(literal.value, str) and literal.value not in known:
                    unknown.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: {literal.value}")
    assert not unknown, "case event kinds missing from CaseEventKind:\n" + "\n".join(unknown)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_follow_up_of_one_who_reported_it_does_not_read_as_another_reporter(lang: str) -> None:
    neighbour = describe_event("reported_again", {"count": 2}, "system", lang)
    same = describe_event("reported_again", {"count": 1, "again": True}, "system", lang)
    assert same != neighbour and "1" in same

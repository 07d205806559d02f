"""Rasa NLU YAML is read and written the way Rasa reads and writes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridline.nlu.training_data import (
    annotate,
    dump_nlu_yaml,
    load_nlu_yaml,
    parse_example,
    parse_nlu_yaml,
)
from gridline.nlu.types import ALL_INTENTS, CONVERSATION_INTENTS, ENTITY_TYPES, ISSUE_CATEGORIES

DOC = """
version: "3.1"
nlu:
- intent: water_supply
  examples: |
    - 俺家[桐柏路199号院](address)停水了
    - [3栋]{"entity": "building", "value": "3号楼"}没水
    - [颍河路56号](address:颍河路56号院)也没水
- intent: greet
  examples:
  - text: 你好
  - text: 恁好
- synonym: 3号楼
  examples: |
    - 3栋
- regex: room
  examples: |
    - \\d{3,4}室
- lookup: compound
  examples: |
    - 桐柏苑
"""


def test_annotations_become_entities_with_offsets() -> None:
    text, entities = parse_example('俺家[桐柏路199号院](address)的[3栋]{"entity": "building", "value": "3号楼"}没水')
    assert text == "俺家桐柏路199号院的3栋没水"
    assert [(e.entity, e.value, text[e.start : e.end]) for e in entities] == [
        ("address", "桐柏路199号院", "桐柏路199号院"),
        ("building", "3号楼", "3栋"),
    ]


def test_a_document_gives_examples_synonyms_regexes_and_lookups() -> None:
    data = parse_nlu_yaml(DOC)
    assert data.intents == ["water_supply", "greet"]
    assert [e.text for e in data.examples_for("greet")] == ["你好", "恁好"]
    assert data.examples[2].entities[0].value == "颍河路56号院"  # old (entity:value) style
    assert data.synonym_map() == {"3栋": "3号楼"}
    assert data.regexes == {"room": [r"\d{3,4}室"]}
    assert data.lookups == {"compound": ["桐柏苑"]}


def test_writing_and_reading_back_gives_the_same_data() -> None:
    data = parse_nlu_yaml(DOC)
    again = parse_nlu_yaml(dump_nlu_yaml(data, comment="round trip"))
    assert again.examples == data.examples
    assert (again.synonyms, again.regexes, again.lookups) == (data.synonyms, data.regexes, data.lookups)
    assert again.fingerprint() == data.fingerprint()


def test_annotate_uses_the_json_form_only_when_the_value_differs() -> None:
    text, entities = parse_example('[3栋]{"entity": "building", "value": "3号楼"}[2单元](unit)')
    assert annotate(text, entities) == '[3栋]{"entity": "building", "value": "3号楼"}[2单元](unit)'


def test_a_broken_annotation_is_reported() -> None:
    with pytest.raises(ValueError, match="bad entity annotation"):
        parse_example('[3栋]{"entity": building}')


def test_the_shipped_training_data_meets_the_issue_minimums(train_file: Path, heldout_file: Path) -> None:
    data = load_nlu_yaml(train_file)
    assert set(data.intents) == set(ALL_INTENTS)
    for intent in ISSUE_CATEGORIES:
        assert len(data.examples_for(intent)) >= 40, intent
    for intent in CONVERSATION_INTENTS:
        assert len(data.examples_for(intent)) >= 15, intent
    annotated = [ex for ex in data.examples if ex.entities]
    assert len(annotated) >= 150
    assert {e.entity for ex in annotated for e in ex.entities} == set(ENTITY_TYPES)
    assert data.synonyms and data.regexes


def test_the_heldout_split_is_never_trained_on(train_file: Path, heldout_file: Path) -> None:
    train = {ex.text for ex in load_nlu_yaml(train_file).examples}
    heldout = load_nlu_yaml(heldout_file)
    assert set(heldout.intents) == set(ALL_INTENTS)
    assert not train & {ex.text for ex in heldout.examples}
    assert 0.12 <= len(heldout.examples) / len(train) <= 0.25

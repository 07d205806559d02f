"""Reading and writing Rasa NLU training data (YAML, format version "3.1").

One training set feeds both engines, so this module understands the parts of Rasa's format that
Gridline uses and writes it back the way Rasa writes it:

.. code-block:: yaml

    version: "3.1"
    nlu:
    - intent: water_supply
      examples: |
        - 俺家[桐柏路199号院](address)停水了
        - [3栋]{"entity": "building", "value": "3号楼"}没水
    - synonym: 3号楼
      examples: |
        - 3栋
    - regex: room
      examples: |
        - \\d{3,4}室
    - lookup: compound
      examples: |
        - 绿城百合花园

Entity annotations ``[text](entity)``, ``[text](entity:value)`` (old style) and
``[text]{"entity": ..., "value": ...}`` become :class:`~gridline.nlu.types.Entity` objects with
character offsets into the plain text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gridline.nlu.types import Entity

RASA_FORMAT_VERSION = "3.1"
_ANNOTATION = re.compile(r"\[(?P<text>[^\]\[]+)\](?:\((?P<paren>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True)
class TrainingExample:
    """One sentence with its intent and its entity annotations (offsets into ``text``)."""

    text: str
    intent: str
    entities: tuple[Entity, ...] = ()


@dataclass
class TrainingData:
    """Intents with examples, plus the synonyms, regexes and lookup tables of a Rasa NLU file."""

    examples: list[TrainingExample] = field(default_factory=list)
    # canonical value → the variants that mean it
    synonyms: dict[str, list[str]] = field(default_factory=dict)
    # name (usually an entity type) → patterns
    regexes: dict[str, list[str]] = field(default_factory=dict)
    # name (usually an entity type) → phrases
    lookups: dict[str, list[str]] = field(default_factory=dict)

    @property
    def intents(self) -> list[str]:
        """Intent names in first-seen order."""
        return list(dict.fromkeys(ex.intent for ex in self.examples))

    def examples_for(self, intent: str) -> list[TrainingExample]:
        return [ex for ex in self.examples if ex.intent == intent]

    def synonym_map(self) -> dict[str, str]:
        """Variant text → canonical value (what Rasa's EntitySynonymMapper applies)."""
        out: dict[str, str] = {}
        for value, variants in self.synonyms.items():
            for variant in variants:
                out[variant] = value
        return out

    def merge(self, other: TrainingData) -> TrainingData:
        """A new set with the examples and tables of both (duplicates of a sentence are kept once)."""
        seen: set[tuple[str, str]] = set()
        examples: list[TrainingExample] = []
        for ex in [*self.examples, *other.examples]:
            key = (ex.text, ex.intent)
            if key not in seen:
                seen.add(key)
                examples.append(ex)
        return TrainingData(
            examples=examples,
            synonyms=_merge_tables(self.synonyms, other.synonyms),
            regexes=_merge_tables(self.regexes, other.regexes),
            lookups=_merge_tables(self.lookups, other.lookups),
        )

    def fingerprint(self) -> str:
        """A stable hash of everything a model learns from (the model's data version)."""
        canonical = {
            "examples": [[ex.text, ex.intent, [list(_entity_key(e)) for e in ex.entities]] for ex in self.examples],
            "synonyms": self.synonyms,
            "regexes": self.regexes,
            "lookups": self.lookups,
        }
        blob = json.dumps(canonical, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _entity_key(entity: Entity) -> tuple[str, str, int, int]:
    return (entity.entity, entity.value, entity.start, entity.end)


def _merge_tables(a: dict[str, list[str]], b: dict[str, list[str]]) -> dict[str, list[str]]:
    out = {k: list(v) for k, v in a.items()}
    for key, values in b.items():
        merged = out.setdefault(key, [])
        merged.extend(v for v in values if v not in merged)
    return out


def parse_example(annotated: str) -> tuple[str, list[Entity]]:
    """Split ``俺家[3栋](building)没水`` into the plain text and its entities with offsets."""
    plain: list[str] = []
    entities: list[Entity] = []
    pos = 0
    length = 0
    for match in _ANNOTATION.finditer(annotated):
        before = annotated[pos : match.start()]
        plain.append(before)
        length += len(before)
        text = match.group("text")
        name, value = _annotation_target(match, text)
        entities.append(Entity(entity=name, value=value, start=length, end=length + len(text)))
        plain.append(text)
        length += len(text)
        pos = match.end()
    plain.append(annotated[pos:])
    return "".join(plain), entities


def _annotation_target(match: re.Match[str], text: str) -> tuple[str, str]:
    if match.group("paren") is not None:
        name, _, value = match.group("paren").partition(":")
        return name.strip(), (value.strip() or text)
    try:
        spec: dict[str, Any] = json.loads(match.group("json"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"bad entity annotation {match.group(0)!r}: {exc}") from exc
    if "entity" not in spec:
        raise ValueError(f"entity annotation without 'entity': {match.group(0)!r}")
    return str(spec["entity"]), str(spec.get("value", text))


def annotate(text: str, entities: Iterable[Entity]) -> str:
    """The inverse of :func:`parse_example`: mark the entities inside ``text`` in Rasa syntax."""
    out: list[str] = []
    pos = 0
    for ent in sorted(entities, key=lambda e: e.start):
        if ent.start < pos:  # overlapping annotations cannot be written; keep the first
            continue
        out.append(text[pos : ent.start])
        surface = text[ent.start : ent.end]
        if ent.value == surface:
            out.append(f"[{surface}]({ent.entity})")
        else:
            spec = json.dumps({"entity": ent.entity, "value": ent.value}, ensure_ascii=False)
            out.append(f"[{surface}]{spec}")
        pos = ent.end
    out.append(text[pos:])
    return "".join(out)


def _example_lines(block: Any) -> list[str]:
    """Rasa allows ``examples: |`` (a block of ``- line``) or a list of ``{text: ...}``."""
    if block is None:
        return []
    if isinstance(block, str):
        lines = []
        for raw in block.splitlines():
            stripped = raw.strip()
            if not stripped:
                continue
            if stripped.startswith("- "):
                stripped = stripped[2:]
            elif stripped == "-":
                continue
            lines.append(stripped.strip())
        return [line for line in lines if line]
    if isinstance(block, list):
        out = []
        for item in block:
            text = item.get("text") if isinstance(item, dict) else item
            if text is not None and str(text).strip():
                out.append(str(text).strip())
        return out
    raise ValueError(f"unsupported examples block: {type(block).__name__}")


def parse_nlu_yaml(content: str, *, source: str = "<string>") -> TrainingData:
    """Parse the ``nlu:`` section of a Rasa YAML document (other sections are ignored)."""
    doc = yaml.safe_load(content) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"{source}: not a Rasa YAML document")
    data = TrainingData()
    for item in doc.get("nlu") or []:
        if not isinstance(item, dict):
            raise ValueError(f"{source}: nlu items must be mappings, got {item!r}")
        lines = _example_lines(item.get("examples"))
        if "intent" in item:
            intent = str(item["intent"])
            for line in lines:
                text, entities = parse_example(line)
                data.examples.append(TrainingExample(text=text, intent=intent, entities=tuple(entities)))
        elif "synonym" in item:
            data.synonyms.setdefault(str(item["synonym"]), []).extend(lines)
        elif "regex" in item:
            data.regexes.setdefault(str(item["regex"]), []).extend(lines)
        elif "lookup" in item:
            data.lookups.setdefault(str(item["lookup"]), []).extend(lines)
    return data


def load_nlu_yaml(paths: str | Path | Sequence[str | Path]) -> TrainingData:
    """Load one Rasa NLU file, several, or every ``*.yml`` in a directory, merged."""
    if isinstance(paths, str | Path):
        path = Path(paths)
        files = sorted(path.glob("*.yml")) + sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    else:
        files = [Path(p) for p in paths]
    data = TrainingData()
    for file in files:
        data = data.merge(parse_nlu_yaml(file.read_text(encoding="utf-8"), source=str(file)))
    return data


def dump_nlu_yaml(data: TrainingData, *, comment: str | None = None) -> str:
    """Write ``data`` as a Rasa 3.1 NLU YAML document (block-literal examples, like Rasa itself)."""
    lines: list[str] = []
    if comment:
        lines.extend(f"# {row}" if row else "#" for row in comment.splitlines())
    lines.append(f'version: "{RASA_FORMAT_VERSION}"')
    lines.append("nlu:")

    def block(kind: str, name: str, rows: Iterable[str]) -> None:
        rows = [_one_line(r) for r in rows]
        if not rows:
            return
        lines.append(f"- {kind}: {_yaml_scalar(name)}")
        lines.append("  examples: |")
        lines.extend(f"    - {row}" for row in rows)

    for intent in data.intents:
        block("intent", intent, (annotate(ex.text, ex.entities) for ex in data.examples_for(intent)))
    for value, variants in data.synonyms.items():
        block("synonym", value, variants)
    for name, patterns in data.regexes.items():
        block("regex", name, patterns)
    for name, phrases in data.lookups.items():
        block("lookup", name, phrases)
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _yaml_scalar(value: str) -> str:
    dumped: str = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10_000)
    return dumped.strip().removesuffix("...").strip()


def write_nlu_yaml(data: TrainingData, path: str | Path, *, comment: str | None = None) -> Path:
    """Write ``data`` to ``path`` (parent directories are created)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dump_nlu_yaml(data, comment=comment), encoding="utf-8")
    return target


# Extra training documents: anything with a text and its label, besides the Rasa YAML examples.
DOCUMENT_SUFFIXES = (".yml", ".yaml", ".jsonl", ".csv")


def load_documents(path: str | Path) -> TrainingData:
    """Labelled documents from a file or a directory of files (``DOCUMENT_SUFFIXES``).

    * ``.yml`` / ``.yaml``: Rasa NLU YAML (e.g. corrections written by ``export-corrections``);
    * ``.jsonl``: one ``{"text": ..., "intent": ...}`` object per line;
    * ``.csv``: a header row with ``text`` and ``intent`` columns.

    Texts may be long (a case description): the classifier reads the first 600 characters.
    A row without a text or a label is an error naming the file and line, not a silent skip.
    """
    source = Path(path)
    files = (
        sorted(p for p in source.iterdir() if p.suffix in DOCUMENT_SUFFIXES) if source.is_dir() else [source]
    )
    data = TrainingData()
    for file in files:
        if file.suffix in (".yml", ".yaml"):
            data = data.merge(parse_nlu_yaml(file.read_text(encoding="utf-8"), source=str(file)))
        elif file.suffix == ".jsonl":
            data = data.merge(TrainingData(examples=list(_jsonl_documents(file))))
        elif file.suffix == ".csv":
            data = data.merge(TrainingData(examples=list(_csv_documents(file))))
        else:
            raise ValueError(f"{file}: training documents must be {', '.join(DOCUMENT_SUFFIXES)}")
    return data


def _document(file: Path, line: int, text: Any, intent: Any) -> TrainingExample:
    if not isinstance(text, str) or not text.strip() or not isinstance(intent, str) or not intent.strip():
        raise ValueError(f"{file}:{line}: a training document needs a non-empty text and intent")
    return TrainingExample(text=" ".join(text.split()), intent=intent.strip())


def _jsonl_documents(file: Path) -> Iterable[TrainingExample]:
    for number, raw in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{file}:{number}: not JSON: {exc}") from exc
        if not isinstance(row, dict):
            raise ValueError(f"{file}:{number}: expected an object with text and intent")
        yield _document(file, number, row.get("text"), row.get("intent"))


def _csv_documents(file: Path) -> Iterable[TrainingExample]:
    import csv

    with file.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"text", "intent"} <= set(reader.fieldnames):
            raise ValueError(f"{file}: the header must name the columns text and intent")
        for number, row in enumerate(reader, start=2):
            yield _document(file, number, row.get("text"), row.get("intent"))

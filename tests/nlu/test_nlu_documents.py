"""Training from more than one source: Rasa YAML plus extra labelled documents."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gridline.nlu.compare import compare_folds, cross_validated
from gridline.nlu.embedded import EmbeddedEngine, load_training, training_files
from gridline.nlu.training_data import TrainingData, TrainingExample, load_documents, load_nlu_yaml

BIRDS = [
    "鹦鹉不说话了，是不是病了，它以前天天学人说话，现在蹲在笼子里一动不动",
    "家里的小鸟羽毛掉得厉害，鸟笼里每天都是毛",
    "八哥今天早上飞走了，窗户没关好",
    "鸟食吃完了，想问问哪里能买到小米",
    "画眉一直叫，邻居说吵",
    "鹦鹉啄笼子，啄得嘴都破了",
]


def write_birds(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"text": text, "intent": "bird"}, ensure_ascii=False) for text in BIRDS[:3]]
    (folder / "descriptions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = "\n".join(f"{text},bird" for text in BIRDS[3:])
    (folder / "corrections.csv").write_text(f"text,intent\n{rows}\n", encoding="utf-8")


def test_documents_load_from_jsonl_csv_and_yaml(tmp_path: Path, pets_file: Path) -> None:
    write_birds(tmp_path)
    shutil.copy(pets_file, tmp_path / "pets.yml")
    data = load_documents(tmp_path)
    assert {ex.intent for ex in data.examples} == {"bird", "cat", "dog", "fish"}
    assert sum(1 for ex in data.examples if ex.intent == "bird") == 6


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("bad.jsonl", '{"text": "鹦鹉病了", "intent": "bird"}\n{"text": "", "intent": "bird"}\n', "bad.jsonl:2"),
        ("bad.jsonl", "not json\n", "bad.jsonl:1"),
        ("bad.csv", "words,label\n鹦鹉病了,bird\n", "bad.csv"),
        ("bad.csv", "text,intent\n鹦鹉病了,\n", "bad.csv:2"),
    ],
)
def test_a_bad_document_is_an_error_naming_the_file_and_line(
    tmp_path: Path, name: str, content: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=where):
        load_documents(path)


def test_the_extra_folder_beside_the_training_file_is_trained_on(tmp_path: Path, pets_file: Path) -> None:
    train = tmp_path / "train.yml"
    shutil.copy(pets_file, train)
    without = EmbeddedEngine.fit(load_training(training_files(train)))
    write_birds(tmp_path / "extra")
    files = training_files(train)
    assert {f.name for f in files} == {"train.yml", "descriptions.jsonl", "corrections.csv"}
    engine = EmbeddedEngine.fit(load_training(files))
    assert "bird" not in without.model.metadata["intents"]
    assert engine.parse_sync("我家鹦鹉病了不吃食").intent == "bird"
    assert engine.version != without.version  # the extra documents are part of the model's data


async def test_extra_documents_join_each_folds_training_and_never_its_test(pets_file: Path) -> None:
    data = load_nlu_yaml(pets_file)
    leaked = data.examples[0]
    extra = TrainingData(examples=[TrainingExample(t, "bird") for t in BIRDS] + [leaked])
    evaluation, _ = await cross_validated(data, 3, "char_svm", extra=extra)
    tested = [p.example for p in evaluation.predictions]
    assert len(tested) == len(data.examples)  # only the file's own examples are tested
    assert all(ex.intent != "bird" for ex in tested)
    assert any(p.result.ranking and p.result.ranking[0].name for p in evaluation.predictions)


async def test_compare_runs_every_method_on_the_same_folds(pets_file: Path) -> None:
    data = load_nlu_yaml(pets_file)
    rows = await compare_folds(data, 3, ["char_svm", "char_pinyin_svm"], threshold=0.45)
    assert [r.method for r in rows] == ["char_svm", "char_pinyin_svm"]
    assert all(r.examples == len(data.examples) for r in rows)
    assert all(0.0 <= r.macro_f1 <= 1.0 and r.train_seconds is not None for r in rows)


def test_an_intent_named_in_chinese_learns_from_its_own_name() -> None:
    """A label's name is a document of it: 「在忙」 and 「没信号」 (of 在山里+没信号) are taught by their names."""
    examples = {
        "在忙": ["我在开车", "现在不方便接", "等会再打过来"],
        "在山里+没信号": ["这边听不清", "我在外地出差", "断断续续的"],
        "没钱还": ["手头紧", "最近真的拿不出来", "工资还没发"],
    }
    data = TrainingData(examples=[TrainingExample(t, label) for label, texts in examples.items() for t in texts])
    engine = EmbeddedEngine.fit(data)
    assert engine.parse_sync("在忙呢").intent == "在忙"
    assert engine.parse_sync("没信号").intent == "在山里+没信号"


@pytest.mark.parametrize(
    ("message", "intent"),
    [("违章搭建", "illegal_construction"), ("社会治安", "public_order"), ("找网格长", "find_leader")],
)
async def test_a_resident_who_writes_only_a_categorys_name_gets_that_category(
    engine: EmbeddedEngine, message: str, intent: str
) -> None:
    assert (await engine.parse(message)).intent == intent

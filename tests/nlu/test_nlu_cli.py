"""``gridline nlu ...`` through typer's test runner, with settings from the environment."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gridline.clock import FakeClock
from gridline.nlu.cli import register
from gridline.nlu.corrections import record_correction
from gridline.nlu.training_data import load_nlu_yaml
from gridline.storage.db import Database
from gridline.storage.models import Message
from tests.nlu.fake_rasa import FakeRasa


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture
def env(tmp_path: Path, train_file: Path) -> dict[str, str]:
    return {
        "GRIDLINE_NLU__MODEL_DIR": str(tmp_path / "models"),
        "GRIDLINE_NLU__TRAINING_DATA": str(train_file),
        "GRIDLINE_NLU__ENGINE": "embedded",
        "GRIDLINE_DATABASE__URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "GRIDLINE_DEFAULT_LANGUAGE": "en",
    }


def run(app: typer.Typer, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["nlu", *args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_parse_prints_rasas_parse_shape_with_priority(app: typer.Typer, env: dict[str, str]) -> None:
    code, out, _ = run(app, env, "parse", "俺住桐柏路199号院，电梯里困住人了快来人")
    assert code == 0
    parsed = json.loads(out)
    assert parsed["intent"]["name"] in {"elevator", "emergency"}
    assert 0 < parsed["intent"]["confidence"] <= 1
    assert parsed["intent_ranking"][0]["name"] == parsed["intent"]["name"]
    assert parsed["entities"][0] | {"extractor": ""} == {
        "entity": "address",
        "value": "桐柏路199号院",
        "start": 2,
        "end": 10,
        "extractor": "",
        "confidence": 1.0,
    }
    assert parsed["engine"] == "embedded" and parsed["model_version"]
    assert parsed["priority"]["priority"] == "emergency"


def test_train_saves_a_versioned_model(app: typer.Typer, env: dict[str, str]) -> None:
    code, out, err = run(app, env, "train")
    assert code == 0
    result = json.loads(out)
    model = Path(result["model"])
    assert model.is_file() and model.name == f"embedded-{result['version']}.pickle"
    assert json.loads(model.with_suffix(".json").read_text())["version"] == result["version"]
    assert "Trained the embedded model" in err


def test_evaluate_writes_rasa_compatible_reports(
    app: typer.Typer, env: dict[str, str], heldout_file: Path, tmp_path: Path
) -> None:
    report = tmp_path / "reports" / "intent_report.json"
    code, out, _ = run(app, env, "evaluate", "--data", str(heldout_file), "--report", str(report))
    assert code == 0
    summary = json.loads(out)
    assert summary["macro_f1"] > 0.8
    assert summary["answered_by"] == {"embedded": summary["examples"]}
    intents = json.loads(report.read_text())
    assert {"accuracy", "macro avg", "weighted avg", "water_supply"} <= set(intents)
    assert {"precision", "recall", "f1-score", "support", "confused_with"} == set(intents["water_supply"])
    entities = json.loads((report.parent / "intent_report-entities.json").read_text())
    assert "address" in entities and "micro avg" in entities
    assert isinstance(json.loads((report.parent / "intent_report-errors.json").read_text()), list)


def test_cross_validation_works_on_any_rasa_file(app: typer.Typer, env: dict[str, str], pets_file: Path) -> None:
    code, out, _ = run(app, env, "evaluate", "--data", str(pets_file), "--cross-validation", "3")
    assert code == 0
    summary = json.loads(out)
    assert summary["examples"] == 18 and summary["cross_validation"] == 3


def test_grouped_cross_validation_is_said_in_the_report(app: typer.Typer, env: dict[str, str], pets_file: Path) -> None:
    code, out, _ = run(app, env, "evaluate", "--data", str(pets_file), "--cross-validation", "3", "--grouped")
    assert code == 0
    summary = json.loads(out)
    assert summary["examples"] == 18 and summary["grouped_folds"] is True
    code, out, _ = run(app, env, "evaluate", "--data", str(pets_file), "--cross-validation", "3")
    assert json.loads(out)["grouped_folds"] is False
    code, out, _ = run(
        app, env, "evaluate", "--data", str(pets_file), "--cross-validation", "3", "--grouped", "--compare", "char_svm"
    )
    assert code == 0 and json.loads(out)["grouped_folds"] is True


def test_cross_validation_of_rasa_is_refused_clearly(app: typer.Typer, env: dict[str, str], pets_file: Path) -> None:
    code, _, err = run(app, env, "evaluate", "--data", str(pets_file), "--engine", "rasa", "--cross-validation", "3")
    assert code == 2
    assert "rasa test nlu --cross-validation" in err


def test_an_unknown_engine_is_a_usage_error(app: typer.Typer, env: dict[str, str]) -> None:
    code, _, _ = run(app, env, "parse", "停水了", "--engine", "watson")
    assert code == 2


def test_export_corrections_writes_the_pending_ones(app: typer.Typer, env: dict[str, str], tmp_path: Path) -> None:
    correct = _a_misread_message(env)
    correct()

    out = tmp_path / "exported.yml"
    code, stdout, err = run(app, env, "export-corrections", "--out", str(out))
    assert code == 0
    assert json.loads(stdout) == {"exported": 1, "path": str(out)}
    assert [(e.text, e.intent) for e in load_nlu_yaml(out).examples] == [("楼道里电动车充电", "safety_hazard")]
    code, stdout, err = run(app, env, "export-corrections", "--out", str(out))
    assert json.loads(stdout)["exported"] == 0
    assert "No new corrections" in err


def test_lookups_are_regenerated_from_an_addresses_csv(app: typer.Typer, env: dict[str, str], tmp_path: Path) -> None:
    csv = tmp_path / "addresses.csv"
    csv.write_text(
        "address,aliases,grid_code,lat,lon,compound\n"
        "郑州市中原区桐柏路199号院,桐柏苑|桐柏路一九九号院|自来水公司家属院,ZY01,34.7,113.6,桐柏苑\n"
        "郑州市高新区西四环13号院,莲花小区,GX01,34.8,113.5,莲花苑\n",
        encoding="utf-8",
    )
    out = tmp_path / "lookups.yml"
    code, stdout, _ = run(app, env, "lookups", "--addresses", str(csv), "--out", str(out))
    assert code == 0
    data = load_nlu_yaml(out)
    assert data.lookups["address"] == ["桐柏路199号院", "桐柏路一九九号院", "西四环13号院"]
    assert data.lookups["road"] == ["桐柏路", "西四环"]
    assert set(data.lookups["compound"]) == {"桐柏苑", "自来水公司家属院", "莲花苑", "莲花小区"}
    assert data.synonym_map() == {
        "桐柏路一九九号院": "桐柏路199号院",
        "自来水公司家属院": "桐柏苑",
        "莲花小区": "莲花苑",
    }
    assert json.loads(stdout)["lookups"] == {"address": 3, "compound": 4, "road": 2}


def test_compare_prints_a_table_and_the_rows(app: typer.Typer, env: dict[str, str], pets_file: Path) -> None:
    code, out, err = run(
        app,
        env,
        "evaluate",
        "--data",
        str(pets_file),
        "--cross-validation",
        "3",
        "--compare",
        "char_svm,char_pinyin_svm",
    )
    assert code == 0
    rows = json.loads(out)["methods"]
    assert [r["method"] for r in rows] == ["char_svm", "char_pinyin_svm"]
    assert "macro-F1" in err and "char_pinyin_svm" in err


def test_compare_refuses_an_unknown_method(app: typer.Typer, env: dict[str, str], pets_file: Path) -> None:
    code, _, _ = run(app, env, "evaluate", "--data", str(pets_file), "--cross-validation", "3", "--compare", "bert")
    assert code == 2


def test_train_takes_extra_documents(app: typer.Typer, env: dict[str, str], pets_file: Path, tmp_path: Path) -> None:
    extra = tmp_path / "birds.jsonl"
    extra.write_text('{"text": "鹦鹉不说话了", "intent": "bird"}\n', encoding="utf-8")
    code, out, _ = run(app, env, "train", "--data", str(pets_file), "--extra", str(extra))
    assert code == 0
    meta = json.loads(Path(json.loads(out)["model"]).with_suffix(".json").read_text())
    assert "bird" in meta["intents"]


SMALL_TRAINING = """version: "3.1"
nlu:
- intent: water_supply
  examples: |
    - 停水了
    - 小区没水了
    - 水龙头不出水
    - 家里没有自来水
    - 水压太低了
    - 又停水了咋弄
- intent: power_supply
  examples: |
    - 停电了
    - 家里没电了
    - 跳闸了
    - 整栋楼没电
    - 电闸老是跳
    - 又停电了咋弄
"""


@pytest.fixture
def small_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The CLI's settings with a small training file of two of Gridline's intents in its own folder."""
    folder = tmp_path / "nlu"
    folder.mkdir()
    (folder / "train.yml").write_text(SMALL_TRAINING, encoding="utf-8")
    return env | {"GRIDLINE_NLU__TRAINING_DATA": str(folder / "train.yml")}


def test_compare_on_a_file_includes_a_running_rasa_server(
    app: typer.Typer, small_env: dict[str, str], tmp_path: Path
) -> None:
    test_file = tmp_path / "test.yml"
    test_file.write_text(
        'version: "3.1"\nnlu:\n- intent: water_supply\n  examples: |\n    - 楼里停水了\n    - 没水了\n'
        "    - 水龙头没水\n- intent: power_supply\n  examples: |\n    - 楼里停电了\n",
        encoding="utf-8",
    )
    fake = FakeRasa(intent="water_supply").start()  # answers water_supply to everything
    env = small_env | {"GRIDLINE_NLU__RASA_URL": fake.url, "GRIDLINE_NLU__RASA_TOKEN": fake.token}
    try:
        code, out, err = run(app, env, "evaluate", "--data", str(test_file), "--compare", "char_svm")
    finally:
        fake.stop()
    assert code == 0
    report = json.loads(out)
    assert report["rasa"] is True
    rows = {r["method"]: r for r in report["methods"]}
    assert list(rows) == ["char_svm", "rasa"]
    # Rasa's row, by hand: 3 of 4 right; water F1 = 2·0.75·1/1.75 = 0.857, power F1 = 0 → macro 0.429.
    assert rows["rasa"]["accuracy"] == pytest.approx(0.75, abs=1e-3)
    assert rows["rasa"]["macro_f1"] == pytest.approx(0.4286, abs=1e-3)
    assert rows["rasa"]["examples"] == 4
    assert {"楼里停水了", "没水了", "水龙头没水", "楼里停电了"} <= set(fake.texts)
    assert "rasa" in err

    # The server down: the same comparison without Rasa, and the table says so.
    code, out, err = run(app, env, "evaluate", "--data", str(test_file), "--compare", "char_svm")
    assert code == 0
    assert json.loads(out)["rasa"] is False
    assert [r["method"] for r in json.loads(out)["methods"]] == ["char_svm"]
    assert "Rasa is not in this comparison" in err


def test_exported_corrections_are_learnt_by_the_next_train(app: typer.Typer, small_env: dict[str, str]) -> None:
    correct = _a_misread_message(small_env)
    code, out, _ = run(app, small_env, "train")
    before = json.loads(Path(json.loads(out)["model"]).with_suffix(".json").read_text())
    correct()

    code, out, _ = run(app, small_env, "export-corrections")  # no --out: the extra/ folder beside train.yml
    assert code == 0
    exported = Path(json.loads(out)["path"])
    assert exported.parent == Path(small_env["GRIDLINE_NLU__TRAINING_DATA"]).parent / "extra"

    code, out, _ = run(app, small_env, "train")
    assert code == 0
    after = json.loads(Path(json.loads(out)["model"]).with_suffix(".json").read_text())
    assert after["examples"] == before["examples"] + 1
    assert "safety_hazard" in after["intents"] and "safety_hazard" not in before["intents"]
    assert after["version"] != before["version"] and after["data_fingerprint"] != before["data_fingerprint"]


def _a_misread_message(env: dict[str, str]) -> Callable[[], None]:
    """Store a resident's message the NLU read as power_supply; returns a supervisor's correction of
    it to safety_hazard (which closes the database afterwards)."""
    db = Database(env["GRIDLINE_DATABASE__URL"])
    db.create_all()
    clock = FakeClock()
    with db.session() as session:
        message = Message(
            direction="in", channel="sms", text="楼道里电动车充电", intent="power_supply", created_at=clock.now()
        )
        session.add(message)
        session.flush()
        message_id = message.id
    assert message_id is not None

    class Services:
        def __init__(self) -> None:
            self.db, self.clock = db, clock

    def correct() -> None:
        record_correction(Services(), message_id, "safety_hazard", "console:zhang")
        db.dispose()

    return correct

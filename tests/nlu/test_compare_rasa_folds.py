"""``gridline nlu evaluate --cross-validation K --compare … --rasa-folds``: Rasa retrained on each fold.

Against the stand-in server: what each fold's training sends, that no test sentence trains its own
fold, that the server gets its own model back, and the refusals. Against a real Rasa server (CI):
the folds train and the server answers with its own model afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import typer

from gridline.nlu.compare import fold_sides
from gridline.nlu.rasa_runtime import RasaServer
from gridline.nlu.training_data import load_nlu_yaml
from tests.nlu.fake_rasa import FakeRasa
from tests.nlu.rasa_fixtures import rasa_model, rasa_server
from tests.nlu.test_nlu_cli import app, env, run

__all__ = ["app", "env", "rasa_model", "rasa_server"]  # fixtures used by name below

TINY_CONFIG = Path(__file__).parent / "data" / "rasa_tiny_config.yml"


@pytest.fixture
def fake() -> Iterator[FakeRasa]:
    server = FakeRasa(intent="cat").start()  # answers "cat" to everything
    yield server
    server.stop()


def folds_args(pets_file: Path, *more: str) -> list[str]:
    return ["evaluate", "--data", str(pets_file), "--cross-validation", "3", "--compare", "char_svm", *more]


def test_each_fold_trains_rasa_on_its_own_training_side(
    app: typer.Typer, env: dict[str, str], pets_file: Path, fake: FakeRasa, tmp_path: Path
) -> None:
    own = tmp_path / "own-model.tar.gz"
    own.write_bytes(b"the server's own model")
    env = env | {"GRIDLINE_NLU__RASA_URL": fake.url, "GRIDLINE_NLU__RASA_TOKEN": fake.token}

    code, out, err = run(app, env, *folds_args(pets_file, "--rasa-folds", "--rasa-model", str(own)))

    assert code == 0, err
    sides = fold_sides(load_nlu_yaml(pets_file), 3)
    assert len(fake.trainings) == 3
    for document, (train, test) in zip(fake.trainings, sides, strict=True):
        assert "DIETClassifier" in document and "nlu:" in document  # Gridline's pipeline and the data
        assert all(ex.text in document for ex in train.examples)
        assert not any(ex.text in document for ex in test)
    # Three fold models, then the server's own one again.
    assert len(fake.loaded) == 4 and fake.loaded[-1] == str(own.resolve())
    rows = {r["method"]: r for r in json.loads(out)["methods"]}
    assert json.loads(out)["rasa"] is True and list(rows) == ["char_svm", "rasa"]
    # "cat" for all 18: cat P 6/18, R 1 → F1 0.5; dog, fish 0 → macro 0.167; accuracy 1/3.
    assert rows["rasa"]["examples"] == 18
    assert rows["rasa"]["accuracy"] == pytest.approx(0.3333, abs=1e-3)
    assert rows["rasa"]["macro_f1"] == pytest.approx(0.1667, abs=1e-3)
    assert "trained on each of the 3 folds" in err


def test_a_server_whose_own_model_cannot_be_found_is_not_touched(
    app: typer.Typer, env: dict[str, str], pets_file: Path, fake: FakeRasa, tmp_path: Path
) -> None:
    env = env | {
        "GRIDLINE_NLU__RASA_URL": fake.url,
        "GRIDLINE_NLU__RASA_TOKEN": fake.token,
        "GRIDLINE_RASA_MODELS": str(tmp_path / "no-models-here"),
    }
    code, _, err = run(app, env, *folds_args(pets_file, "--rasa-folds"))
    assert code == 2
    assert fake.trainings == [] and fake.loaded == []
    assert "pass --rasa-model" in err


def test_without_a_server_the_methods_are_compared_alone(
    app: typer.Typer, env: dict[str, str], pets_file: Path, fake: FakeRasa
) -> None:
    url = fake.url
    fake.stop()
    code, out, err = run(app, env | {"GRIDLINE_NLU__RASA_URL": url}, *folds_args(pets_file, "--rasa-folds"))
    assert code == 0
    assert json.loads(out)["rasa"] is False
    assert [r["method"] for r in json.loads(out)["methods"]] == ["char_svm"]
    assert "Rasa is not in this comparison" in err


def test_rasa_folds_needs_folds_and_a_comparison(app: typer.Typer, env: dict[str, str], pets_file: Path) -> None:
    code, _, _ = run(app, env, "evaluate", "--data", str(pets_file), "--compare", "char_svm", "--rasa-folds")
    assert code == 2
    code, _, _ = run(app, env, "evaluate", "--data", str(pets_file), "--cross-validation", "3", "--rasa-folds")
    assert code == 2


@pytest.mark.rasa
@pytest.mark.slow
def test_a_real_rasa_server_is_trained_per_fold_and_gets_its_model_back(
    app: typer.Typer, env: dict[str, str], pets_file: Path, rasa_server: RasaServer
) -> None:
    env = env | {"GRIDLINE_NLU__RASA_URL": rasa_server.url, "GRIDLINE_NLU__RASA_TOKEN": rasa_server.token}
    code, out, err = run(app, env, *folds_args(pets_file, "--rasa-folds", "--rasa-config", str(TINY_CONFIG)))

    assert code == 0, err
    rows = {r["method"]: r for r in json.loads(out)["methods"]}
    assert rows["rasa"]["examples"] == 18 and rows["rasa"]["train_seconds"] > 0
    status = httpx.get(f"{rasa_server.url}/status", params={"token": rasa_server.token}, timeout=30).json()
    assert status["model_file"] == rasa_server.model_file
    # Its own model, not a pets fold's: it knows Gridline's intents again.
    parsed = httpx.post(
        f"{rasa_server.url}/model/parse", params={"token": rasa_server.token}, json={"text": "楼里停水了"}, timeout=60
    ).json()
    assert parsed["intent"]["name"] == "water_supply"

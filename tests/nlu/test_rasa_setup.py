"""scripts/rasa-setup.sh and scripts/rasa-serve.sh: what they train on, when they train, what they refuse.

A stand-in ``rasa`` executable (a shell script in a temporary "virtual environment") records how it
is called, so these tests run in a second without Rasa. The real scripts run against real Rasa in
test_rasa_contract.py.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from gridline.nlu.embedded import COMPANION_FILES

REPO_ROOT = Path(__file__).resolve().parents[2]
SETUP = REPO_ROOT / "scripts" / "rasa-setup.sh"
SERVE = REPO_ROOT / "scripts" / "rasa-serve.sh"

FAKE_RASA = """#!/usr/bin/env bash
# Stand-in for Rasa: `--version` works; `train nlu` records its inputs and writes an empty model.
set -euo pipefail
if [[ "$1" == "--version" ]]; then echo "Rasa Version: 3.6.21"; exit 0; fi
if [[ "$1 $2" == "train nlu" ]]; then
  shift 2
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --nlu) nlu="$2"; shift 2 ;;
      --out) out="$2"; shift 2 ;;
      --fixed-model-name) name="$2"; shift 2 ;;
      *) shift ;;
    esac
  done
  ls "$nlu" >> "$(dirname "$0")/trained-on"
  echo "--" >> "$(dirname "$0")/trained-on"
  mkdir -p "$out" && echo model > "$out/$name.tar.gz"
  exit 0
fi
exit 2
"""


@pytest.fixture
def fake_env(tmp_path: Path) -> dict[str, str]:
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "rasa").write_text(FAKE_RASA)
    (venv_bin / "rasa").chmod(0o755)
    (venv_bin / "pip").write_text("#!/bin/sh\nexit 0\n")
    (venv_bin / "pip").chmod(0o755)
    return {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "GRIDLINE_RASA_VENV": str(tmp_path / "venv"),
        "GRIDLINE_RASA_MODELS": str(tmp_path / "models"),
    }


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "nlu"
    directory.mkdir()
    for name in ("train.yml", "heldout.yml", *COMPANION_FILES):
        (directory / name).write_text('version: "3.1"\nnlu: []\n')
    return directory


def setup(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SETUP), *args], env=env, capture_output=True, text=True, timeout=60)


def trainings(env: dict[str, str]) -> list[list[str]]:
    record = Path(env["GRIDLINE_RASA_VENV"]) / "bin" / "trained-on"
    if not record.exists():
        return []
    runs = record.read_text().split("--\n")
    return [sorted(run.split()) for run in runs if run.strip()]


def test_the_script_reads_the_same_companion_files_as_the_embedded_engine() -> None:
    declared = re.search(r"^COMPANION_FILES=\(([^)]*)\)", SETUP.read_text(), re.MULTILINE)
    assert declared is not None
    assert tuple(declared.group(1).split()) == COMPANION_FILES


def test_training_uses_the_training_file_and_its_companions_never_the_heldout_split(
    fake_env: dict[str, str], data_dir: Path
) -> None:
    done = setup(fake_env, "--data", str(data_dir / "train.yml"))
    assert done.returncode == 0, done.stderr
    model = Path(done.stdout.strip().splitlines()[-1])
    assert model.is_file()
    assert model.parent == Path(fake_env["GRIDLINE_RASA_MODELS"])
    assert trainings(fake_env) == [sorted(["train.yml", *COMPANION_FILES])]


def test_an_unchanged_training_set_reuses_the_model(fake_env: dict[str, str], data_dir: Path) -> None:
    first = setup(fake_env, "--data", str(data_dir / "train.yml"))
    again = setup(fake_env, "--data", str(data_dir / "train.yml"))
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert "model up to date" in again.stderr
    assert len(trainings(fake_env)) == 1


@pytest.mark.parametrize("changed", ["train.yml", "lookups.yml"])
def test_changed_training_data_trains_a_new_model(fake_env: dict[str, str], data_dir: Path, changed: str) -> None:
    first = setup(fake_env, "--data", str(data_dir / "train.yml")).stdout
    with (data_dir / changed).open("a") as f:
        f.write("- intent: greet\n  examples: |\n    - 你好\n")
    second = setup(fake_env, "--data", str(data_dir / "train.yml")).stdout
    assert second != first
    assert len(trainings(fake_env)) == 2


def test_the_heldout_split_does_not_change_the_model(fake_env: dict[str, str], data_dir: Path) -> None:
    first = setup(fake_env, "--data", str(data_dir / "train.yml")).stdout
    (data_dir / "heldout.yml").write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 你好\n')
    assert setup(fake_env, "--data", str(data_dir / "train.yml")).stdout == first
    assert len(trainings(fake_env)) == 1


def test_force_train_trains_again(fake_env: dict[str, str], data_dir: Path) -> None:
    setup(fake_env, "--data", str(data_dir / "train.yml"))
    setup(fake_env, "--data", str(data_dir / "train.yml"), "--force-train")
    assert len(trainings(fake_env)) == 2


def test_without_python_310_the_setup_says_what_is_missing(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "GRIDLINE_RASA_VENV": str(tmp_path / "no-venv")}
    env["GRIDLINE_RASA_PYTHON"] = str(tmp_path / "no-python")
    done = setup(env, "--no-train")
    assert done.returncode != 0
    assert "Python 3.10 not found" in done.stderr


def test_the_server_refuses_to_start_without_a_token(fake_env: dict[str, str]) -> None:
    env = {k: v for k, v in fake_env.items() if k != "GRIDLINE_NLU__RASA_TOKEN"}
    done = subprocess.run(["bash", str(SERVE)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "no auth token" in done.stderr


def test_the_pipeline_is_the_chinese_one_the_project_asks_for() -> None:
    config = yaml.safe_load((REPO_ROOT / "rasa" / "config.yml").read_text())
    assert config["language"] == "zh"
    steps = {step["name"]: step for step in config["pipeline"] if step["name"] != "CountVectorsFeaturizer"}
    analyzers = {step.get("analyzer") for step in config["pipeline"] if step["name"] == "CountVectorsFeaturizer"}
    assert {"JiebaTokenizer", "DIETClassifier", "RegexEntityExtractor", "EntitySynonymMapper"} <= set(steps)
    assert {"word", "char_wb"} <= analyzers
    assert steps["RegexEntityExtractor"]["use_word_boundaries"] is False
    assert steps["FallbackClassifier"]["threshold"] > 0

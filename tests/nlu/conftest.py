"""Fixtures for the NLU tests: one embedded engine trained on the real training data per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridline.nlu.embedded import EmbeddedEngine
from gridline.nlu.engines import embedded_engine

REPO = Path(__file__).resolve().parents[2]
TRAIN = REPO / "config" / "nlu" / "train.yml"
HELDOUT = REPO / "config" / "nlu" / "heldout.yml"


@pytest.fixture(scope="session")
def train_file() -> Path:
    return TRAIN


@pytest.fixture(scope="session")
def heldout_file() -> Path:
    return HELDOUT


@pytest.fixture(scope="session")
def pets_file() -> Path:
    """A small Rasa file with made-up intents (cat, dog, fish)."""
    return Path(__file__).parent / "data" / "pets.yml"


@pytest.fixture(scope="session")
def nlu_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nlu-models")


@pytest.fixture(scope="session")
def engine(nlu_model_dir: Path) -> EmbeddedEngine:
    """The embedded engine trained on config/nlu/train.yml (trained once, cached per process)."""
    return embedded_engine(TRAIN, nlu_model_dir)

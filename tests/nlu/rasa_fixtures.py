"""Pytest fixtures that train the Rasa model and run a real Rasa server for the session.

Import the fixtures into a test module (``from tests.nlu.rasa_fixtures import rasa_model, rasa_server``).
Without the Rasa environment the tests skip locally; with ``CI=true`` they build it instead
(``scripts/rasa-setup.sh``), because CI must run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gridline.nlu.rasa_runtime import RasaServer, rasa_installed, rasa_venv, train_rasa
from gridline.settings import NluSettings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
TRAINING_DATA = REPO_ROOT / "config" / "nlu" / "train.yml"


def require_rasa() -> None:
    """Skip (locally) or carry on to build the environment (CI) when Rasa is not installed."""
    if rasa_installed() or os.environ.get("CI") == "true":
        return
    pytest.skip(f"no Rasa environment at {rasa_venv()}: run scripts/rasa-setup.sh to enable the Rasa tests")


@pytest.fixture(scope="session")
def rasa_model() -> Path:
    """The trained Rasa model (trained now unless the cached one matches the data and pipeline)."""
    require_rasa()
    return train_rasa(load_settings(nlu=NluSettings(training_data=str(TRAINING_DATA))))


@pytest.fixture(scope="session")
def rasa_server(rasa_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaServer]:
    """A real ``rasa run --enable-api`` on a free port, warmed up, stopped after the session."""
    log_path = tmp_path_factory.mktemp("rasa") / "rasa-server.log"
    with RasaServer(rasa_model, log_path=log_path) as server:
        # The first parse builds TensorFlow's graph (seconds); do it here, not inside a test's timeout.
        httpx.post(
            f"{server.url}/model/parse", params={"token": server.token}, json={"text": "你好"}, timeout=120
        ).raise_for_status()
        yield server

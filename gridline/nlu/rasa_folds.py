"""Rasa DIET on the same cross-validation folds as the embedded methods, through a running server.

``gridline nlu evaluate --cross-validation K --compare … --rasa-folds`` trains one Rasa model per fold:
the fold's training side (examples, synonyms, regexes, lookups, extra documents) and Gridline's
pipeline (``rasa/config.yml``) go to the server's ``POST /model/train`` as one YAML document, the
model it returns is written to a temporary folder and loaded with ``PUT /model``, and the fold's
test sentences are parsed over HTTP — Rasa's own answers, without Gridline's fallback. At the end
the server gets its own model back, also when the run fails half-way.

The server must be on this machine (``PUT /model`` takes a path the *server* opens) and must be one
nobody else is using: while the folds run it answers with a fold's model. Its own model is found
before anything is trained — ``/status`` names only the file, so it is looked up in Rasa's model
folder (``GRIDLINE_RASA_MODELS``, default ``~/.cache/gridline/rasa-models``) unless given — and a
model that cannot be found stops the run before the server is touched.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from gridline.nlu.rasa_runtime import REPO_ROOT, rasa_models_folder
from gridline.nlu.training_data import TrainingData, dump_nlu_yaml
from gridline.nlu.types import NluResult

RASA_CONFIG = REPO_ROOT / "rasa" / "config.yml"
# DIET on ~1,400 sentences takes minutes on two cores; a busy machine more.
TRAIN_TIMEOUT_SECONDS = 1800.0


class RasaFoldsError(RuntimeError):
    """The server cannot be retrained per fold (its model cannot be found, or training failed)."""


def training_document(config_yaml: str, data: TrainingData) -> str:
    """One YAML document with the pipeline and the NLU data: what ``POST /model/train`` takes."""
    return config_yaml.rstrip("\n") + "\n\n" + dump_nlu_yaml(data)


class RasaFolds:
    """``async with RasaFolds(url, token, config=…) as rasa:`` then ``await rasa.train(fold)`` and
    ``await rasa.parse(text)`` per fold; the server's own model is loaded again on exit."""

    def __init__(
        self, url: str, token: str, *, config: Path = RASA_CONFIG, own_model: Path | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.params = {"token": token} if token else None
        self.client = httpx.AsyncClient(base_url=url, timeout=timeout)
        self.config_yaml = config.read_text(encoding="utf-8")
        self.own_model = own_model
        self.train_seconds = 0.0
        self.folds_trained = 0
        self._folder = tempfile.TemporaryDirectory(prefix="gridline-rasa-folds-")

    async def __aenter__(self) -> RasaFolds:
        try:
            self.own_model = await self._find_own_model()
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        try:
            if self.folds_trained:
                await self._load(self.own_model)
        finally:
            await self._close()

    async def _close(self) -> None:
        await self.client.aclose()
        self._folder.cleanup()

    async def _find_own_model(self) -> Path:
        status = await self.client.get("/status", params=self.params)
        status.raise_for_status()
        if self.own_model is not None:
            candidates = [self.own_model]
        else:
            named = Path(str(status.json().get("model_file") or ""))
            candidates = [named] if named.is_absolute() else [rasa_models_folder() / named.name]
        for path in candidates:
            if path.is_file():
                return path.resolve()
        raise RasaFoldsError(
            f"the server's model ({status.json().get('model_file')}) is not at {candidates[0]}: "
            "pass --rasa-model with the file the server was started with"
        )

    async def train(self, data: TrainingData) -> None:
        """Train a model on ``data`` and make the server answer with it."""
        started = time.perf_counter()
        response = await self.client.post(
            "/model/train",
            params={**(self.params or {}), "save_to_default_model_directory": "false"},
            content=training_document(self.config_yaml, data).encode("utf-8"),
            headers={"Content-Type": "application/yaml"},
            timeout=TRAIN_TIMEOUT_SECONDS,
        )
        if response.status_code != 200:
            raise RasaFoldsError(f"Rasa could not train a fold ({response.status_code}): {response.text[:300]}")
        self.folds_trained += 1
        model = Path(self._folder.name) / f"fold-{self.folds_trained}.tar.gz"
        model.write_bytes(response.content)
        await self._load(model)
        self.train_seconds += time.perf_counter() - started

    async def _load(self, model: Path | None) -> None:
        response = await self.client.put("/model", params=self.params, json={"model_file": str(model)})
        if response.status_code != 204:
            raise RasaFoldsError(f"Rasa could not load {model} ({response.status_code}): {response.text[:300]}")

    async def parse(self, text: str) -> NluResult:
        response = await self.client.post("/model/parse", params=self.params, json={"text": text})
        response.raise_for_status()
        payload: dict[str, Any] = response.json()
        return NluResult.from_rasa(payload, engine="rasa")

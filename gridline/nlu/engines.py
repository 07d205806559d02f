"""Choosing and building the NLU engine from settings.

``build_engine(settings)`` returns the embedded engine for the current training data — loaded from
``settings.nlu.model_dir`` when a model for exactly this data and code version is saved there,
trained (a few seconds) and saved otherwise — or, with ``nlu.engine = "rasa"``, the Rasa client with
the embedded engine as its fallback.

Loaded embedded models are cached per process by version, so building services many times (tests,
workers) trains and loads once.
"""

from __future__ import annotations

import threading
from pathlib import Path

from gridline.nlu.embedded import EmbeddedEngine, load_training, model_filename, model_version, training_files
from gridline.nlu.methods import DEFAULT_METHOD
from gridline.nlu.types import NluEngine
from gridline.settings import Settings

_CHECKOUT = Path(__file__).resolve().parents[2]
_cache: dict[str, EmbeddedEngine] = {}
_versions: dict[tuple[object, ...], str] = {}
_lock = threading.Lock()


def embedded_engine(training_data: str | Path, model_dir: str | Path, method: str = DEFAULT_METHOD) -> EmbeddedEngine:
    """The embedded engine for ``training_data``: cached, else loaded, else trained and saved."""
    files = training_files(resolve_path(training_data))
    # Reading and hashing the YAML takes ~0.1 s; unchanged files (same size and mtime) skip it.
    stamp = (method, *((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.exists()))
    with _lock:
        known = _versions.get(stamp)
        if known is not None and known in _cache:
            return _cache[known]
    data = load_training(files)
    version = model_version(data, method)
    with _lock:
        _versions[stamp] = version
        cached = _cache.get(version)
        if cached is not None:
            return cached
        path = Path(model_dir) / model_filename(version)
        engine: EmbeddedEngine | None = None
        if path.is_file():
            try:
                engine = EmbeddedEngine.load(path)
            except Exception:  # a file from another library version or a broken copy: retrain
                engine = None
        if engine is None:
            engine = EmbeddedEngine.fit(data, method)
            engine.save(model_dir)
        _cache[version] = engine
        return engine


def resolve_path(path: str | Path) -> Path:
    """A relative path from settings, tried against the working directory, then the source checkout.

    ``config/nlu/train.yml`` is relative to the repository; a process started elsewhere (a test
    runner in another directory, a service manager) still finds it.
    """
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    in_checkout = _CHECKOUT / candidate
    return in_checkout if in_checkout.exists() else candidate


def build_engine(settings: Settings) -> NluEngine:
    """The NLU engine the settings ask for (see the module docstring)."""
    embedded = embedded_engine(settings.nlu.training_data, settings.nlu.model_dir)
    if settings.nlu.engine == "rasa":
        from gridline.nlu.rasa_client import RasaEngine  # only needed when Rasa is configured

        engine: NluEngine = RasaEngine(settings, fallback=embedded)
        return engine
    return embedded


def clear_cache() -> None:
    """Forget loaded models (tests that check loading from disk)."""
    with _lock:
        _cache.clear()
        _versions.clear()

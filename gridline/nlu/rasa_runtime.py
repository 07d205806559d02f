"""Training and running the Rasa server from Python (the CLI, tests and benchmarks).

Everything goes through the shell scripts in ``scripts/`` — ``rasa-setup.sh`` (environment + model)
and ``rasa-serve.sh`` (server) — so that the command line, CI and these helpers do exactly the same.
Rasa lives in its own virtual environment (``GRIDLINE_RASA_VENV``, default
``~/.cache/gridline/rasa-venv``); Gridline never imports it.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import httpx

from gridline.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SETUP_SCRIPT = REPO_ROOT / "scripts" / "rasa-setup.sh"
SERVE_SCRIPT = REPO_ROOT / "scripts" / "rasa-serve.sh"
# Loading TensorFlow and the model takes ~20 s on two idle cores; a busy CI machine needs more.
DEFAULT_STARTUP_TIMEOUT = 300.0


class RasaSetupError(RuntimeError):
    """The Rasa environment could not be built, or the model could not be trained or served."""


def _cached(variable: str, name: str) -> Path:
    """``$variable`` when set, else ``~/.cache/gridline/<name>`` (as ``scripts/rasa-setup.sh`` decides)."""
    configured = os.environ.get(variable)
    return Path(configured) if configured else Path.home() / ".cache" / "gridline" / name


def rasa_venv() -> Path:
    """Where the Rasa virtual environment lives."""
    return _cached("GRIDLINE_RASA_VENV", "rasa-venv")


def rasa_models_folder() -> Path:
    """Where ``scripts/rasa-setup.sh`` keeps trained models."""
    return _cached("GRIDLINE_RASA_MODELS", "rasa-models")


def rasa_installed() -> bool:
    """True when the Rasa environment has been built (cheap: does not start Rasa)."""
    return (rasa_venv() / "bin" / "rasa").is_file()


def train_rasa(settings: Settings, *, force: bool = False, build_env: bool = True) -> Path:
    """Train the Rasa model on ``settings.nlu.training_data``; returns the model file.

    Reuses the cached model when the training data, its lookups and ``rasa/config.yml`` are
    unchanged. Builds the Rasa environment first when it is missing (several minutes) unless
    ``build_env`` is false, in which case a missing environment raises :class:`RasaSetupError`.
    """
    if not build_env and not rasa_installed():
        raise RasaSetupError(f"no Rasa environment at {rasa_venv()}: run scripts/rasa-setup.sh")
    command = ["bash", str(SETUP_SCRIPT), "--data", str(Path(settings.nlu.training_data).resolve())]
    if force:
        command.append("--force-train")
    # stderr is passed through: training prints progress for minutes.
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RasaSetupError(f"scripts/rasa-setup.sh failed with exit code {done.returncode}")
    model = Path(lines[-1])
    if not model.is_file():
        raise RasaSetupError(f"scripts/rasa-setup.sh reported {model}, which does not exist")
    return model


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RasaServer:
    """A ``rasa run --enable-api`` process on a free loopback port, for tests and benchmarks.

    ::

        with RasaServer(model) as server:
            settings.nlu.rasa_url, settings.nlu.rasa_token = server.url, server.token
    """

    def __init__(
        self,
        model: Path,
        *,
        port: int | None = None,
        token: str | None = None,
        log_path: Path | None = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    ) -> None:
        self.model = model
        self.port = port or free_port()
        # Hex, never URL-safe base64: a token that starts with "-" reads as an option to rasa's argparse.
        self.token = token or secrets.token_hex(16)
        self.log_path = log_path or Path(f"/tmp/gridline-rasa-{self.port}.log")
        self.startup_timeout = startup_timeout
        self.startup_seconds: float | None = None
        self.model_file: str = ""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RasaServer:
        """Start the server and wait until ``/status`` answers with the model loaded."""
        if self._process is not None:
            return self
        started = time.perf_counter()
        command = ["bash", str(SERVE_SCRIPT), "--model", str(self.model)]
        command += ["--port", str(self.port), "--token", self.token]
        with self.log_path.open("wb") as log_file:
            # A session of its own: stop() signals the whole group, whatever Rasa spawned.
            self._process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, started: float) -> None:
        assert self._process is not None
        deadline = started + self.startup_timeout
        while time.perf_counter() < deadline:
            if self._process.poll() is not None:
                raise RasaSetupError(f"rasa exited with {self._process.returncode} while starting:\n{self._log_tail()}")
            try:
                response = httpx.get(f"{self.url}/status", params={"token": self.token}, timeout=2.0)
                if response.status_code == 200 and response.json().get("model_file"):
                    self.model_file = str(response.json()["model_file"])
                    self.startup_seconds = time.perf_counter() - started
                    return
            except httpx.HTTPError:
                pass  # not listening yet
            time.sleep(0.25)
        raise RasaSetupError(f"rasa did not answer /status within {self.startup_timeout:g}s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ten seconds)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def __enter__(self) -> RasaServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

"""A stand-in Rasa server (a real HTTP server on a free loopback port) for the fallback tests.

It answers ``/model/parse`` and ``/status`` like Rasa 3.6 does, or misbehaves on demand: sleeps past
the client's timeout, answers with an HTTP error. ``POST /model/train`` keeps the YAML it was sent
and returns a fake model file; ``PUT /model`` records the path it was asked to load (``/status``
then names that file, as Rasa does). It counts the requests it receives so that tests can
prove the circuit breaker stops calling it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import parse_qs, urlsplit

Behaviour = Literal["answer", "slow", "error"]
MODEL_FILE = "gridline-nlu-fake.tar.gz"


@dataclass
class FakeRasa:
    """Start with :meth:`start`, stop with :meth:`stop`; switch ``behaviour`` at any time."""

    behaviour: Behaviour = "answer"
    token: str = "fake-token"
    # How long a "slow" answer takes (the tests use a client timeout well below this).
    delay_seconds: float = 5.0
    intent: str = "water_supply"
    entities: list[dict[str, object]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # The texts that reached /model/parse.
    texts: list[str] = field(default_factory=list)
    # The YAML documents sent to /model/train, and the model files loaded with PUT /model.
    trainings: list[str] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    model_file: str = MODEL_FILE
    _server: ThreadingHTTPServer | None = None
    _released: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeRasa not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def parse_requests(self) -> int:
        return sum(1 for _method, path in self.requests if path == "/model/parse")

    def start(self) -> FakeRasa:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def _handle(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                yaml_body = self.headers.get("Content-Type") == "application/yaml"
                body = json.loads(raw or b"{}") if raw and not yaml_body else {}
                fake.requests.append((method, url.path))
                if url.path == "/model/parse":
                    fake.texts.append(str(body.get("text", "")))
                if fake.behaviour == "slow":
                    # Released early at stop() so that the server shuts down promptly.
                    fake._released.wait(fake.delay_seconds)
                if fake.behaviour == "error":
                    return self._reply(500, {"status": "failure", "message": "boom"})
                if parse_qs(url.query).get("token") != [fake.token]:
                    return self._reply(401, {"status": "failure", "reason": "NotAuthenticated"})
                if url.path == "/status":
                    return self._reply(200, {"model_file": fake.model_file.rsplit("/", 1)[-1], "model_id": "fake"})
                if url.path == "/model/train" and method == "POST":
                    fake.trainings.append(raw.decode("utf-8"))
                    return self._reply_bytes(200, f"fake model {len(fake.trainings)}".encode())
                if url.path == "/model" and method == "PUT":
                    fake.loaded.append(str(body.get("model_file")))
                    fake.model_file = str(body.get("model_file"))
                    return self._reply_bytes(204, b"")
                if url.path == "/model/parse" and method == "POST":
                    return self._reply(200, fake.parse_answer(str(body.get("text", ""))))
                return self._reply(404, {"status": "failure"})

            def _reply(self, status: int, payload: dict[str, object]) -> None:
                self._reply_bytes(status, json.dumps(payload).encode(), "application/json")

            def _reply_bytes(self, status: int, raw: bytes, kind: str = "application/x-tar") -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as it should

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def parse_answer(self, text: str) -> dict[str, object]:
        return {
            "text": text,
            "intent": {"name": self.intent, "confidence": 0.91},
            "intent_ranking": [
                {"name": self.intent, "confidence": 0.91},
                # DIET trained with the reject class ranks it among the intents.
                {"name": "nlu_fallback", "confidence": 0.04},
                {"name": "drainage", "confidence": 0.05},
            ],
            "entities": self.entities,
        }

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

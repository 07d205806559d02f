"""A fake web push service (RFC 8030) on 127.0.0.1: a real HTTP server, like a browser vendor's,
that records each push request and answers 201 — or what a test tells it to (410 = subscription gone).

``Browser`` is the other end: a P-256 key pair and auth secret as a browser makes them when it
subscribes, able to decrypt (RFC 8291, ``aes128gcm``) what the push service was handed.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.fake_servers import serve_locally


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class PushRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakePushService:
    requests: list[PushRequest] = field(default_factory=list)
    # Status codes to answer, in order; 201 Created once they run out.
    statuses: list[int] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/push/{id}", self._push)
        self._runner, self.url = await serve_locally(app)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _push(self, request: web.Request) -> web.Response:
        self.requests.append(
            PushRequest(request.path, {k.lower(): v for k, v in request.headers.items()}, await request.read())
        )
        status = self.statuses.pop(0) if self.statuses else 201
        return web.Response(status=status)


class Browser:
    """A browser's side of one push subscription."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = os.urandom(16)

    def subscription(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives the page's script."""
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth_secret)},
        }

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm")
        data: dict[str, Any] = json.loads(plain)
        return data


def verify_vapid(authorization: str, public_key_b64: str) -> dict[str, Any]:
    """Check a ``vapid t=<JWT>, k=<key>`` header (RFC 8292): the key is ours, the ES256 signature
    holds; returns the JWT claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid", authorization
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == public_key_b64
    header_b64, claims_b64, signature_b64 = fields["t"].split(".")
    assert json.loads(unb64url(header_b64))["alg"] == "ES256"
    signature = unb64url(signature_b64)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key_b64))
    try:
        key.verify(encode_dss_signature(r, s), f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:  # pragma: no cover - the assertion message is the point
        raise AssertionError("VAPID signature does not verify") from exc
    claims: dict[str, Any] = json.loads(unb64url(claims_b64))
    return claims

"""Web push (RFC 8030/8291/8292) to the staff inbox's installed browsers, through ``pywebpush``.

The push service of each browser (FCM, Mozilla's autopush, Apple's) receives an encrypted message
(``aes128gcm``) signed with our VAPID key and wakes the inbox's service worker, which shows a
notification. The message says only what the lock screen may show: reference, category, grid.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from gridline.settings import InboxSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushTarget:
    """One browser's subscription, as its push service gave it."""

    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class PushOutcome:
    ok: bool
    # The push service says the subscription no longer exists (404/410): forget it.
    gone: bool = False
    status: int | None = None
    error: str | None = None


def public_key_of(vapid: Vapid) -> str:
    """The application server key a browser subscribes with: the uncompressed P-256 point, base64url."""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_vapid_keys() -> tuple[str, str]:
    """A fresh (private, public) VAPID pair: the private key as base64url raw bytes (for the config)."""
    vapid = Vapid()
    vapid.generate_keys()
    number = vapid.private_key.private_numbers().private_value  # type: ignore[union-attr]
    private = base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()
    return private, public_key_of(vapid)


def load_vapid(key: str) -> Vapid:
    """The VAPID key of ``[inbox] vapid_private_key``: base64url (raw 32 bytes or DER), or PEM."""
    key = key.strip()
    if "-----BEGIN" in key:  # py_vapid's from_string reads only base64url
        return Vapid.from_pem(key.encode())
    return Vapid.from_string(private_key=key)


def vapid_key_problem(settings: InboxSettings) -> str | None:
    """Why ``[inbox] vapid_private_key`` cannot be used (None when it can, or when none is set).

    ``gridline serve`` and ``gridline worker`` ask before they start: a key they cannot read would
    otherwise fail every web process and worker at start-up with a base64 traceback.
    """
    key = settings.vapid_private_key.strip()
    if not key:
        return None
    try:
        load_vapid(key)
    except Exception as exc:  # py_vapid raises binascii, ValueError, cryptography errors …
        return (
            "[inbox] vapid_private_key (GRIDLINE_INBOX__VAPID_PRIVATE_KEY) is not a VAPID private key "
            f"({type(exc).__name__}): use the base64url key `gridline inbox vapid-keys` prints, or a PEM "
            "key, or leave it empty for no web push"
        )
    return None


class WebPush:
    """Sends pushes with the configured VAPID key; disabled (sends nothing) when none is set."""

    def __init__(self, settings: InboxSettings) -> None:
        self.settings = settings
        self._vapid: Vapid | None = None
        if settings.vapid_private_key:
            self._vapid = load_vapid(settings.vapid_private_key)

    @property
    def enabled(self) -> bool:
        return self._vapid is not None

    @property
    def public_key(self) -> str | None:
        return public_key_of(self._vapid) if self._vapid is not None else None

    async def send(self, target: PushTarget, payload: dict[str, Any]) -> PushOutcome:
        """Encrypt ``payload`` for one browser and post it to its push service."""
        if self._vapid is None:
            return PushOutcome(False, error="web push is not configured ([inbox] vapid_private_key)")
        info = {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}}
        try:
            response = await webpush_async(
                info,
                json.dumps(payload, ensure_ascii=False),
                vapid_private_key=self._vapid,
                vapid_claims={"sub": self.settings.vapid_subject},
                ttl=self.settings.push_ttl_seconds,
                timeout=aiohttp.ClientTimeout(total=10),  # type: ignore[arg-type]
            )
        except WebPushException as exc:
            status = exc.status_code
            return PushOutcome(False, gone=status in (404, 410), status=status, error=f"push refused: {status}")
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return PushOutcome(False, error=f"{type(exc).__name__}: {exc}"[:300])
        status = getattr(response, "status", None)
        return PushOutcome(True, status=status)

"""The blob store of evidence photos: bytes kept under their sha256, so the same bytes are kept once.

Two stores, one interface (``[evidence] store``):

- :class:`LocalBlobStore` — a folder (``[evidence] path``), ``ab/cd/abcd…`` files written to a temporary
  name, flushed to disk and renamed, so a crash never leaves half a photo under a real name;
- :class:`S3BlobStore` — an S3-compatible object store spoken to over the S3 REST API with AWS
  Signature Version 4 (path-style ``{endpoint}/{bucket}/{key}``: AWS S3, MinIO, Ceph RGW…).

The methods are blocking (file and HTTP I/O): callers run them in a thread (``asyncio.to_thread``),
never on the event loop and never inside a database transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit

import httpx

from gridline.settings import EvidenceSettings

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class BlobStoreError(Exception):
    """The store could not be read or written (the caller answers "try again", stores no row)."""


class BlobStore(Protocol):
    kind: str

    def put(self, sha256: str, data: bytes, content_type: str) -> bool:
        """Keep ``data`` under ``sha256``; False when those bytes were already there."""

    def get(self, sha256: str) -> bytes | None: ...

    def delete(self, sha256: str) -> None: ...


def _checked(sha256: str) -> str:
    if not SHA256_RE.match(sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return sha256


class LocalBlobStore:
    kind = "local"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        _checked(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, sha256: str, data: bytes, content_type: str) -> bool:
        target = self.path_of(sha256)
        if target.is_file():
            return False
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise BlobStoreError(f"cannot write {target}: {exc}") from exc
        return True

    def get(self, sha256: str) -> bytes | None:
        try:
            return self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BlobStoreError(str(exc)) from exc

    def delete(self, sha256: str) -> None:
        self.path_of(sha256).unlink(missing_ok=True)


# --- S3 ---------------------------------------------------------------------------------------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def canonical_uri(path: str) -> str:
    """The path, URI-encoded once per segment (S3 keys are not normalised)."""
    return quote(path or "/", safe="/-_.~")


def sigv4_headers(
    method: str,
    url: str,
    headers: dict[str, str],
    payload_sha256: str,
    *,
    access_key: str,
    secret_key: str,
    region: str,
    service: str = "s3",
    now: datetime,
) -> dict[str, str]:
    """``headers`` plus ``x-amz-date``, ``x-amz-content-sha256`` and the SigV4 ``Authorization``."""
    parts = urlsplit(url)
    amz_date = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    signed.setdefault("host", parts.netloc)
    signed["x-amz-date"] = amz_date
    signed["x-amz-content-sha256"] = payload_sha256
    names = sorted(signed)
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(tuple(p.split("=", 1)) if "=" in p else (p, "") for p in parts.query.split("&") if p)
    )
    canonical = "\n".join(
        [
            method.upper(),
            canonical_uri(parts.path),
            query,
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            payload_sha256,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return {**{k: v for k, v in headers.items()}, "x-amz-date": amz_date, "x-amz-content-sha256": payload_sha256,
            "Authorization": authorization}  # fmt: skip


class S3BlobStore:
    """A small S3 REST client: PUT, GET, HEAD and DELETE of one object, signed with SigV4.

    Signatures carry the wall-clock time (S3 refuses requests more than 15 minutes off), so this
    reads the system clock, not the injected one: it is the protocol's time, not Gridline's.
    """

    kind = "s3"

    def __init__(self, settings: EvidenceSettings, *, now: Callable[[], datetime] | None = None,
                 timeout: float = 15.0) -> None:  # fmt: skip
        if not settings.s3_endpoint or not settings.s3_bucket:
            raise ValueError("[evidence] store = 's3' needs s3_endpoint and s3_bucket")
        self.settings = settings
        self.base = settings.s3_endpoint.rstrip("/")
        self._now = now or (lambda: datetime.now(UTC))
        self._http = httpx.Client(timeout=timeout)

    def url_of(self, sha256: str) -> str:
        key = f"{self.settings.s3_prefix}{_checked(sha256)}"
        return f"{self.base}/{self.settings.s3_bucket}/{key}"

    def _request(self, method: str, sha256: str, body: bytes = b"", headers: dict[str, str] | None = None
                 ) -> httpx.Response:  # fmt: skip
        url = self.url_of(sha256)
        payload = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
        signed = sigv4_headers(
            method, url, headers or {}, payload, access_key=self.settings.s3_access_key,
            secret_key=self.settings.s3_secret_key, region=self.settings.s3_region, now=self._now(),
        )  # fmt: skip
        try:
            response = self._http.request(method, url, content=body or None, headers=signed)
        except httpx.HTTPError as exc:
            raise BlobStoreError(f"S3 {method} {url}: {exc!r}") from exc
        if response.status_code >= 500 or response.status_code in (400, 401, 403):
            raise BlobStoreError(f"S3 {method} {url}: {response.status_code} {response.text[:300]}")
        return response

    def exists(self, sha256: str) -> bool:
        return self._request("HEAD", sha256).status_code == 200

    def put(self, sha256: str, data: bytes, content_type: str) -> bool:
        if self.exists(sha256):
            return False
        response = self._request("PUT", sha256, data, {"Content-Type": content_type})
        if response.status_code not in (200, 201):
            raise BlobStoreError(f"S3 PUT answered {response.status_code}")
        return True

    def get(self, sha256: str) -> bytes | None:
        response = self._request("GET", sha256)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise BlobStoreError(f"S3 GET answered {response.status_code}")
        return response.content

    def delete(self, sha256: str) -> None:
        response = self._request("DELETE", sha256)
        if response.status_code not in (200, 204, 404):
            raise BlobStoreError(f"S3 DELETE answered {response.status_code}")

    def close(self) -> None:
        self._http.close()


def build_blob_store(settings: EvidenceSettings) -> BlobStore:
    if settings.store == "s3":
        return S3BlobStore(settings)
    return LocalBlobStore(settings.path)

"""A fake S3-compatible object store: a real HTTP server speaking the few calls Gridline makes
(PUT, GET, HEAD, DELETE of an object, path-style ``/{bucket}/{key}``), refusing any request whose
AWS Signature Version 4 does not verify against its one access key, whose payload hash is not the
body's, or whose time is more than 15 minutes off."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from gridline.storage.blobs import sigv4_headers
from tests.fake_servers import serve_locally

AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                     r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})")  # fmt: skip


@dataclass
class FakeS3:
    access_key: str
    secret_key: str
    bucket: str
    region: str = "us-east-1"
    objects: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    log: list[tuple[str, str, int]] = field(default_factory=list)
    base_url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> FakeS3:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{bucket}/{key:.+}", self._object)
        self._runner, self.base_url = await serve_locally(app)
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _verify(self, request: web.Request, body: bytes) -> str | None:
        found = AUTH_RE.fullmatch(request.headers.get("Authorization", ""))
        if found is None:
            return "no SigV4 authorization"
        access, day, region, signed_names, signature = found.groups()
        if access != self.access_key or region != self.region:
            return "unknown access key or region"
        amz_date = request.headers.get("x-amz-date", "")
        if not amz_date.startswith(day):
            return "x-amz-date does not match the credential scope"
        when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if abs((datetime.now(UTC) - when).total_seconds()) > 900:
            return "RequestTimeTooSkewed"
        payload = request.headers.get("x-amz-content-sha256", "")
        if payload != hashlib.sha256(body).hexdigest():
            return "XAmzContentSHA256Mismatch"
        names = signed_names.split(";")
        if not {"host", "x-amz-date", "x-amz-content-sha256"} <= set(names):
            return "host, x-amz-date and x-amz-content-sha256 must be signed"
        headers = {n: request.headers[n] for n in names if n not in ("x-amz-date", "x-amz-content-sha256")}
        expected = sigv4_headers(request.method, str(request.url), headers, payload, access_key=access,
                                 secret_key=self.secret_key, region=region, now=when)["Authorization"]  # fmt: skip
        return None if expected.endswith(f"Signature={signature}") else "SignatureDoesNotMatch"

    async def _object(self, request: web.Request) -> web.Response:
        body = await request.read()
        refused = self._verify(request, body)
        key = request.match_info["key"]
        if refused is not None or request.match_info["bucket"] != self.bucket:
            self.log.append((request.method, key, 403))
            return web.Response(status=403, text=f"<Error><Code>{refused or 'NoSuchBucket'}</Code></Error>")
        status = 200
        if request.method == "PUT":
            self.objects[key] = (body, request.headers.get("Content-Type", "application/octet-stream"))
        elif request.method in ("GET", "HEAD"):
            if key not in self.objects:
                status = 404
        elif request.method == "DELETE":
            self.objects.pop(key, None)
            status = 204
        self.log.append((request.method, key, status))
        if status != 200 or request.method != "GET":
            return web.Response(status=status)
        content, content_type = self.objects[key]
        return web.Response(body=content, content_type=content_type)

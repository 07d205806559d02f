"""Evidence of the fix: photos (with a note) from whoever holds a case, on any channel.

:func:`attach` is the one way in — Telegram (a photo with ``#REF`` or replying to the page), MMS,
the staff inbox and the console case page all call it, and so can the department loop (it returns
the evidence id a reply can cite; :func:`evidence_on_case` checks such ids). In order:

1. the bytes are checked (``edge.images``): not empty, at most ``[evidence] max_bytes``, a JPEG, PNG or WebP by their
   magic bytes (the declared type is not trusted); their metadata goes (JPEG APP1…APP15 and comments,
   PNG text/EXIF chunks, WebP EXIF/XMP): EXIF carries the GPS position of the phone, often a
   resident's home;
2. the case is found (by reference or id) and the uploader checked: a staff member who may act on
   it (``routing.who_may_act.may_act``: paged, the grid's leader, the grid chain, supervisors) or a
   console user the console let through;
3. the bytes go to the blob store under their sha256 (outside any transaction; the same bytes are
   kept once), then the row and an ``evidence`` case event are written.

Nothing is stored when any step refuses; the result's ``code`` says why.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridline.edge.images import STRIPPERS, image_type, make_thumbnail
from gridline.edge.images import strip_jpeg_metadata as strip_jpeg_metadata  # callers' import
from gridline.kernel.work import Work, in_transaction
from gridline.routing.timeline import publish_case, record_event
from gridline.storage import cases
from gridline.storage import evidence as evidence_rows
from gridline.storage.blobs import BlobStore, BlobStoreError, build_blob_store
from gridline.storage.models import Case, Evidence, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services

# "#W4RGMD" anywhere in a caption or text (refs use REF_ALPHABET, six characters).
REF_TAG = re.compile(r"#\s?([A-Za-z0-9]{4,12})\b")
NOTE_LIMIT = 2000

CHANNELS = ("telegram", "sms", "console", "inbox", "department")

# Result codes (texts: evidence.result.<code> in the catalogue).
ATTACHED, ALREADY = "attached", "already_attached"
TOO_LARGE, NOT_IMAGE, EMPTY = "too_large", "not_an_image", "empty"
UNKNOWN_CASE, NOT_ALLOWED, STORE_FAILED, NO_CASE = "unknown_case", "not_allowed", "store_failed", "no_case"


def caption_ref(text: str | None) -> str | None:
    """The case reference tagged in a caption or text (``#W4RGMD``), upper case."""
    found = REF_TAG.search(text or "")
    return found.group(1).upper() if found else None


def caption_note(text: str | None) -> str | None:
    """The caption without its ``#REF`` tag: the note kept with the photo."""
    note = REF_TAG.sub("", text or "", count=1).strip()
    return note[:NOTE_LIMIT] or None


@dataclass(frozen=True)
class Uploader:
    """Who attaches: a staff member (``staff_id``) and how the timeline names them."""

    actor: str
    staff_id: int | None = None


@dataclass(frozen=True)
class AttachResult:
    ok: bool
    code: str
    ref: str = ""
    evidence_id: int | None = None


# A permission check run inside the unit of work: (work, case) → allowed.
Permission = Callable[[Work, Case], bool]


def store_of(services: Services) -> BlobStore:
    """The process's blob store, built from ``[evidence]`` once."""
    return services.parts.get_or_make(_Blobs, lambda: _Blobs(build_blob_store(services.settings.evidence))).store


@dataclass
class _Blobs:
    """The blob store as a part of the process (``services.parts`` is keyed by class)."""

    store: BlobStore


def checked_image(data: bytes, max_bytes: int) -> tuple[bytes, str] | str:
    """(the bytes to keep, their type), or the refusal code."""
    if not data:
        return EMPTY
    if len(data) > max_bytes:
        return TOO_LARGE
    kind = image_type(data)
    if kind is None:
        return NOT_IMAGE
    return STRIPPERS[kind](data), kind


def staff_may_attach(services: Services, staff_id: int) -> Permission:
    """The holders' rule: whoever may act on the case (``routing.who_may_act.may_act``)."""
    from gridline.routing.who_may_act import may_act

    def check(work: Work, case: Case) -> bool:
        staff = work.session.get(Staff, staff_id)
        return staff is not None and may_act(services, work, case, staff)

    return check


def _find(work: Work, ref: str | None, case_id: int | None) -> Case | None:
    if case_id is not None:
        return work.session.get(Case, case_id)
    return cases.by_ref(work.session, (ref or "").strip().upper()) if ref else None


def _allowed(work: Work, ref: str | None, case_id: int | None, permitted: Permission) -> tuple[str, str]:
    case = _find(work, ref, case_id)
    if case is None:
        return UNKNOWN_CASE, (ref or "").upper()
    return ("" if permitted(work, case) else NOT_ALLOWED), case.ref


async def refusal(services: Services, ref: str, staff_id: int) -> AttachResult | None:
    """Before fetching a photo from a provider: why ``staff_id`` could not attach to ``ref`` (None = may)."""
    refused, found_ref = await in_transaction(services, _allowed, ref, None, staff_may_attach(services, staff_id))
    return AttachResult(False, refused, found_ref) if refused else None


async def attach(
    services: Services,
    *,
    data: bytes,
    uploader: Uploader,
    channel: str,
    ref: str | None = None,
    case_id: int | None = None,
    note: str | None = None,
    permitted: Permission | None = None,
) -> AttachResult:
    """Check, store and record one photo on a case (see the module docstring)."""
    if ref is None and case_id is None:
        return AttachResult(False, NO_CASE)
    if permitted is None:
        if uploader.staff_id is None:
            raise ValueError("attach() needs a staff uploader or a permission check")
        permitted = staff_may_attach(services, uploader.staff_id)
    checked = checked_image(data, services.settings.evidence.max_bytes)
    if isinstance(checked, str):
        return AttachResult(False, checked, (ref or "").upper())
    kept, content_type = checked
    refused, found_ref = await in_transaction(services, _allowed, ref, case_id, permitted)
    if refused:
        return AttachResult(False, refused, found_ref)
    sha256 = hashlib.sha256(kept).hexdigest()
    try:
        await asyncio.to_thread(store_of(services).put, sha256, kept, content_type)
    except BlobStoreError:
        return AttachResult(False, STORE_FAILED, found_ref)
    row = Evidence(
        case_id=0, sha256=sha256, content_type=content_type, size=len(kept),
        note=(note or "").strip()[:NOTE_LIMIT] or None, channel=channel, actor=uploader.actor,
        staff_id=uploader.staff_id, created_at=services.clock.now(),
    )  # fmt: skip
    return await in_transaction(services, _record, ref, case_id, row, permitted)


def _record(work: Work, ref: str | None, case_id: int | None, row: Evidence, permitted: Permission) -> AttachResult:
    case = _find(work, ref, case_id)
    if case is None:
        return AttachResult(False, UNKNOWN_CASE, (ref or "").upper())
    if not permitted(work, case):  # checked again: the holder may have changed meanwhile
        return AttachResult(False, NOT_ALLOWED, case.ref)
    row.case_id, row.created_at = case.id or 0, work.now
    stored, new = evidence_rows.add(work.session, row)
    if not new:
        return AttachResult(True, ALREADY, case.ref, stored.id)
    data: dict[str, object] = {"evidence_id": stored.id, "channel": stored.channel}
    if stored.note:
        data["text"] = stored.note  # "text": the retention purge removes it with the other words
    record_event(work, case.id, "evidence", row.actor, data)
    publish_case(work, case)
    return AttachResult(True, ATTACHED, case.ref, stored.id)


def evidence_on_case(work: Work, case_id: int, evidence_ids: list[int]) -> list[Evidence]:
    """The photos among ``evidence_ids`` that are on ``case_id`` (others are ignored)."""
    return evidence_rows.on_case(work.session, case_id, evidence_ids)


async def read_bytes(services: Services, row: Evidence) -> bytes | None:
    """The photo's bytes from the blob store (None when purged or missing)."""
    if not row.sha256:
        return None
    try:
        return await asyncio.to_thread(store_of(services).get, row.sha256)
    except BlobStoreError:
        return None


# --- thumbnails ---------------------------------------------------------------------------------

_THUMBS: OrderedDict[str, bytes] = OrderedDict()
_THUMBS_KEPT = 128


async def thumbnail(services: Services, row: Evidence) -> tuple[bytes, str] | None:
    """The photo's thumbnail (kept in memory for the most recent ones), or the photo itself when it
    cannot be decoded; None when the bytes are gone."""
    if row.sha256 and row.sha256 in _THUMBS:
        _THUMBS.move_to_end(row.sha256)
        return _THUMBS[row.sha256], "image/jpeg"
    data = await read_bytes(services, row)
    if data is None or not row.sha256:
        return None
    small = await asyncio.to_thread(make_thumbnail, data)
    if small is None:
        return data, row.content_type
    _THUMBS[row.sha256] = small
    while len(_THUMBS) > _THUMBS_KEPT:
        _THUMBS.popitem(last=False)
    return small, "image/jpeg"


# --- signed links (Open311 media_url) -------------------------------------------------------------


def media_signature(secret: str, evidence_id: int, expires: int) -> str:
    message = f"open311-media:{evidence_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def signature_valid(secret: str, evidence_id: int, expires: int, given: str, now_ts: int) -> bool:
    if expires < now_ts:
        return False
    return hmac.compare_digest(media_signature(secret, evidence_id, expires), given)

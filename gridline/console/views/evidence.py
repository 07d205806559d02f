"""Evidence photos in the console: upload from the case page and the staff inbox, and the photos
themselves, served only to a signed-in viewer who may see the case.

Uploads are multipart forms under ``/console/evidence/`` (their own body cap, ``[evidence]
max_bytes``), with the session's CSRF token like every console POST. Who may attach:

- from the inbox: the signed-in staff member, by the holders' rule (``routing.evidence``);
- from the case page: a supervisor or admin within their scope, or a leader on their own case.

The photo itself is checked by ``routing.evidence.attach`` (size, magic bytes); nothing is stored
when it refuses, and the page says why.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from gridline.console.access import can_see_case
from gridline.console.http import ConsoleContext, Forbidden, NotFound, client_ip, in_console, redirect, state_of
from gridline.edge.params import RowId
from gridline.edge.text import clean_text
from gridline.kernel.work import Work
from gridline.routing import evidence
from gridline.storage import evidence as evidence_rows
from gridline.storage import staff_inbox
from gridline.storage.audit import record
from gridline.storage.models import Case, Evidence, Staff

router = APIRouter()

INBOX = "/console/inbox"
UPLOAD_PREFIX = "/console/evidence"


async def _read_upload(request: Request) -> tuple[Any, bytes, str | None]:
    """The form, the photo's bytes (at most max_bytes + 1 are read) and the note."""
    limit = state_of(request).services.settings.evidence.max_bytes
    form = await request.form(max_files=1, max_fields=10)
    photo = form.get("photo")
    data = b""
    if isinstance(photo, UploadFile):
        data = await photo.read(limit + 1)
    # A multipart form passes the edge's cleaning (gridline.edge.cleaning) as it is: clean its note here.
    note = clean_text(str(form.get("note") or "")).strip() or None
    return form, data, note


def _case_url(case_id: int) -> str:
    return f"/console/cases/{case_id}"


@router.post("/evidence/cases/{case_id}")
async def upload_on_case_page(request: Request, case_id: RowId) -> Response:
    form, data, note = await _read_upload(request)

    def check(ctx: ConsoleContext) -> tuple[str, int | None]:
        viewer = ctx.viewer
        if not (viewer.can_manage_cases or (viewer.role == "leader" and viewer.staff_id is not None)):
            raise Forbidden()
        if can_see_case(ctx.session, viewer, case_id) is None:
            raise NotFound()
        return viewer.actor, viewer.staff_id

    actor, staff_id = await in_console(request, check, form=form)

    def permitted(work: Work, case: Case) -> bool:
        return case.id == case_id  # the console's scope was checked above, in this request

    result = await evidence.attach(
        state_of(request).services, data=data, uploader=evidence.Uploader(actor, staff_id), channel="console",
        case_id=case_id, note=note, permitted=permitted,
    )  # fmt: skip
    if result.ok:
        await _audit(request, form, case_id, result.evidence_id)
        return redirect(_case_url(case_id), done=f"evidence_{result.code}")
    return redirect(_case_url(case_id), error=f"evidence_{result.code}")


@router.post("/evidence/inbox/{case_id}")
async def upload_in_inbox(request: Request, case_id: RowId) -> Response:
    form, data, note = await _read_upload(request)

    def check(ctx: ConsoleContext) -> tuple[int, str]:
        staff_id = ctx.viewer.staff_id
        if ctx.viewer.role == "auditor" or staff_id is None:
            raise Forbidden()
        if staff_inbox.inbox_case(ctx.session, staff_id, case_id) is None:
            raise NotFound()
        staff = ctx.session.get(Staff, staff_id)
        return staff_id, f"staff:{staff.code if staff else staff_id}"

    staff_id, actor = await in_console(request, check, form=form)
    result = await evidence.attach(
        state_of(request).services, data=data, uploader=evidence.Uploader(actor, staff_id), channel="inbox",
        case_id=case_id, note=note,
    )  # fmt: skip
    return redirect(INBOX, done=f"evidence_{result.code}", ref=result.ref, case=str(case_id))


async def _audit(request: Request, form: Any, case_id: int, evidence_id: int | None) -> None:
    def body(ctx: ConsoleContext) -> None:
        record(ctx.session, at=ctx.now, actor=ctx.viewer.actor, action="case.evidence", target_kind="case",
               target_id=case_id, detail={"evidence_id": evidence_id}, ip=client_ip(request))  # fmt: skip

    await in_console(request, body, form=form)


async def _visible_row(request: Request, evidence_id: int) -> Evidence:
    def find(ctx: ConsoleContext) -> Evidence:
        row = evidence_rows.get(ctx.session, evidence_id)
        if row is None or can_see_case(ctx.session, ctx.viewer, row.case_id) is None:
            raise NotFound()
        return row

    return await in_console(request, find)


def _image(data: bytes, content_type: str) -> Response:
    return Response(data, media_type=content_type, headers={
        "cache-control": "private, max-age=3600", "content-disposition": "inline", "x-content-type-options": "nosniff",
    })  # fmt: skip


@router.get("/evidence/{evidence_id}")
async def photo(request: Request, evidence_id: RowId) -> Response:
    """The photo, for a viewer who may see its case (404 otherwise, as for the case itself)."""
    row = await _visible_row(request, evidence_id)
    data = await evidence.read_bytes(state_of(request).services, row)
    if data is None:
        raise NotFound()
    return _image(data, row.content_type)


@router.get("/evidence/{evidence_id}/thumb")
async def photo_thumbnail(request: Request, evidence_id: RowId) -> Response:
    """The timeline's thumbnail (at most 320 px), under the same rule as the photo."""
    row = await _visible_row(request, evidence_id)
    found = await evidence.thumbnail(state_of(request).services, row)
    if found is None:
        raise NotFound()
    return _image(*found)

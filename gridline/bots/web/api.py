"""The sandbox's JSON endpoints under ``/sandbox/api``.

Resident side: ``POST messages`` stores the event in the durable inbox (processed by a job, exactly
like a Telegram update), ``GET conversation`` reads the chat back. Leader side: ``GET inbox/{id}``,
``POST actions`` (→ ``act_on_case`` on channel ``web``), ``GET cases/{id}`` (the timeline).
Malformed input gets a 4xx with a JSON body saying what is wrong; nothing here answers 500 for it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from gridline.bots.page_text import answer_text
from gridline.bots.web import queries
from gridline.bots.web.identities import CHANNEL, SESSION_RE, anonymous_external_id, resident_external_id
from gridline.bots.web.inbound import PROVIDER
from gridline.bots.web.mapview import grid_map
from gridline.bots.web.payloads import ResidentMessageIn, StaffActionIn
from gridline.core.inbox import receive_event
from gridline.edge.params import RowId
from gridline.edge.text import ascii_int
from gridline.i18n import DEFAULT_LANGUAGE, Language, t
from gridline.kernel.services import Services
from gridline.kernel.work import Work, in_transaction
from gridline.routing import evidence
from gridline.routing.actions import act_on_case
from gridline.routing.directory import Directory
from gridline.routing.duty import reassignment_candidates
from gridline.storage import evidence as evidence_rows
from gridline.storage.models import Case, Page, Resident, Staff

API_PREFIX = "/sandbox/api"
Lang = Annotated[Language, Query()]


def problem(status: int, code: str, lang: str, **params: Any) -> HTTPException:
    """An error the page can show as is: a stable ``error`` code and a ``message`` for people."""
    return HTTPException(status, detail={"error": code, "message": t(f"web.error.{code}", lang, **params)})


def build_api(services: Services) -> APIRouter:
    """The JSON API, bound to ``services`` (no globals)."""
    router = APIRouter(prefix=API_PREFIX, tags=["sandbox"])
    clock = queries.Clockface(services.settings.timezone)

    @router.get("/residents")
    async def residents(lang: Lang = DEFAULT_LANGUAGE) -> dict[str, Any]:
        return await in_transaction(services, lambda work: {"residents": queries.demo_residents(work.session, lang)})

    @router.get("/staff")
    async def staff(lang: Lang = DEFAULT_LANGUAGE) -> dict[str, Any]:
        return await in_transaction(services, lambda work: {"staff": queries.web_staff(work.session, lang)})

    @router.get("/map")
    async def grids_map() -> dict[str, Any]:
        return await in_transaction(services, lambda work: grid_map(work.session))

    @router.post("/messages", status_code=202)
    async def post_message(body: ResidentMessageIn) -> dict[str, Any]:
        lang = body.lang or services.settings.default_language
        if body.resident_id is not None:
            resident_id = body.resident_id
            if await in_transaction(services, lambda work: work.session.get(Resident, resident_id)) is None:
                raise problem(404, "unknown_resident", lang, id=body.resident_id)
            external_id = resident_external_id(body.resident_id)
        else:
            assert body.session_id is not None
            external_id = anonymous_external_id(body.session_id)
        event, is_new = await receive_event(services, PROVIDER, str(body.event_id), body.to_payload(external_id))
        # The embedded scheduler wakes up on enqueue, so the reply is usually there by the next poll.
        return {"accepted": True, "duplicate": not is_new, "event_id": str(body.event_id),
                "inbound_event_id": event.id, "external_id": external_id}

    @router.get("/conversation")
    async def get_conversation(
        resident_id: Annotated[int | None, Query(ge=1)] = None,
        session_id: Annotated[str | None, Query(pattern=SESSION_RE.pattern)] = None,
        lang: Lang = DEFAULT_LANGUAGE,
    ) -> dict[str, Any]:
        if (resident_id is None) == (session_id is None):
            raise problem(422, "who_is_chatting", lang)
        external_id = resident_external_id(resident_id) if resident_id is not None \
            else anonymous_external_id(session_id or "")
        return await in_transaction(services, lambda work: queries.conversation(work.session, external_id, clock, lang))

    @router.get("/inbox/{staff_id}")
    async def get_inbox(staff_id: RowId, lang: Lang = DEFAULT_LANGUAGE) -> dict[str, Any]:
        def read(work: Work) -> dict[str, Any]:
            member = work.session.get(Staff, staff_id)
            if member is None:
                raise problem(404, "unknown_staff", lang, id=staff_id)
            index = Directory.for_services(services).grid_index(work.session)

            def whom(case: Case) -> list[Staff]:
                return reassignment_candidates(work.session, services.settings, index, case, work.now,
                                               handing_over=member)

            return {"staff": {"id": member.id, "name": member.name, "code": member.code, "role": member.role,
                              "role_label": t(f"web.role.{member.role}", lang), "grid_code": member.grid_code},
                    "pages": queries.inbox(work.session, member, clock, lang, whom)}

        return await in_transaction(services, read)

    @router.post("/actions")
    async def post_action(body: StaffActionIn, lang: Lang = DEFAULT_LANGUAGE) -> JSONResponse:
        def check(work: Work) -> int:
            page = work.session.get(Page, body.page_id)
            if page is None or page.staff_id != body.staff_id:
                raise problem(404, "unknown_page", lang, id=body.page_id)
            if body.to_staff_id is not None and work.session.get(Staff, body.to_staff_id) is None:
                raise problem(404, "unknown_staff", lang, id=body.to_staff_id)
            return page.case_id

        case_id = await in_transaction(services, check)
        result = await act_on_case(services, case_id=case_id, staff_id=body.staff_id, action=body.action,
                                   channel=CHANNEL, page_id=body.page_id, to_staff_id=body.to_staff_id)
        status = 200 if result.ok else 403 if result.code in ("not_allowed", "passed_on") else 409
        # Said in the page's language (the inbox's labels are too), not the staff member's.
        said = answer_text(result, lang)
        return JSONResponse({"ok": result.ok, "code": result.code, "text": said, "case_id": case_id,
                             "case_ref": result.case_ref, "by_staff_name": result.by_staff_name}, status_code=status)

    @router.post("/evidence")
    async def post_evidence(request: Request, lang: Lang = DEFAULT_LANGUAGE) -> JSONResponse:
        """A photo of the fix from the staff side (multipart: staff_id, page_id, photo, note)."""
        limit = services.settings.evidence.max_bytes
        form = await request.form(max_files=1, max_fields=10)
        staff_id = ascii_int(str(form.get("staff_id") or ""), lowest=1)
        page_id = ascii_int(str(form.get("page_id") or ""), lowest=1)
        photo = form.get("photo")
        data = await photo.read(limit + 1) if isinstance(photo, UploadFile) else b""
        if staff_id is None or page_id is None:
            raise problem(400, "bad_evidence", lang)

        def check(work: Work) -> tuple[int, str]:
            page = work.session.get(Page, page_id)
            staff = work.session.get(Staff, staff_id)
            if page is None or staff is None or page.staff_id != staff_id:
                raise problem(404, "unknown_page", lang, id=page_id)
            return page.case_id, staff.code

        case_id, code = await in_transaction(services, check)
        result = await evidence.attach(services, data=data, uploader=evidence.Uploader(f"staff:{code}", staff_id),
                                       channel="inbox", case_id=case_id, note=str(form.get("note") or "") or None)
        text = t(f"evidence.result.{result.code}", lang, ref=result.ref, mb=round(limit / 1_000_000, 1))
        return JSONResponse({"ok": result.ok, "code": result.code, "text": text, "evidence_id": result.evidence_id},
                            status_code=200 if result.ok else 403 if result.code == "not_allowed" else 400)

    @router.get("/evidence/{evidence_id}")
    async def get_evidence(evidence_id: RowId, lang: Lang = DEFAULT_LANGUAGE) -> Response:
        """The photo (the sandbox has no sign-in: it is a demo, mounted only with --demo)."""
        row = await in_transaction(services, lambda work: evidence_rows.get(work.session, evidence_id))
        data = await evidence.read_bytes(services, row) if row is not None else None
        if row is None or data is None:
            raise problem(404, "unknown_evidence", lang, id=evidence_id)
        return Response(data, media_type=row.content_type, headers={"x-content-type-options": "nosniff"})

    @router.get("/cases/{case_id}")
    async def get_case(case_id: RowId, lang: Lang = DEFAULT_LANGUAGE) -> dict[str, Any]:
        def read(work: Work) -> dict[str, Any]:
            case = work.session.get(Case, case_id)
            if case is None:
                raise problem(404, "unknown_case", lang, id=case_id)
            return queries.case_timeline(work.session, case, clock, lang)

        return await in_transaction(services, read)

    return router

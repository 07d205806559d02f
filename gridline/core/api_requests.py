"""Service requests filed by other systems (Open311 clients) rather than by a resident in a chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridline.domain.explanations import Reason, because, priority_because
from gridline.kernel.work import Work, in_transaction
from gridline.nlu.priority import assess_priority
from gridline.nlu.types import ISSUE_CATEGORIES, OTHER_CATEGORY, NluResult
from gridline.routing.cases import CaseDraft, find_duplicate, join_case, open_case
from gridline.routing.directory import Directory
from gridline.storage.models import Case, Message, Resident

if TYPE_CHECKING:
    from gridline.kernel.services import Services


@dataclass(frozen=True)
class ApiRequest:
    description: str
    service_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    phone: str | None = None
    name: str | None = None
    client: str = "open311"


async def file_api_request(services: Services, request: ApiRequest) -> tuple[Case, bool]:
    """Open (or join) a case for an API request; returns (case, created)."""
    nlu = await services.nlu.parse(request.description)
    if request.service_code in ISSUE_CATEGORIES:
        category = request.service_code
        reason = because("category", Reason.SERVICE_CODE, service_code=request.service_code, client=request.client)
    elif nlu.is_issue and nlu.confidence >= services.settings.nlu.confidence_threshold:
        category = nlu.intent
        reason = because("category", Reason.NLU_SURE, intent=nlu.intent, confidence=nlu.confidence,
                         threshold=services.settings.nlu.confidence_threshold)
    else:
        category = OTHER_CATEGORY
        reason = because("category", Reason.NOT_UNDERSTOOD, intent=nlu.intent, confidence=nlu.confidence)
    priority = assess_priority(nlu)
    explanation = [
        {**reason, "category": category, "engine": nlu.engine},
        {**priority_because(priority.reasons), "priority": priority.priority},
    ]
    draft = CaseDraft(
        category=category,
        priority=priority.priority,
        grid_code=None,
        summary=request.description,
        channel="api",
        resident_id=None,  # the requester's grid and resident record are settled in the transaction (_file)
        address_text=request.address,
        lat=request.lat,
        lon=request.lon,
        nlu_confidence=nlu.confidence,
        explanation=explanation,
    )
    return await in_transaction(services, _file, services, request, nlu, draft)


def _locate(services: Services, request: ApiRequest, draft: CaseDraft) -> None:
    """The grid from the point, else from the address (the directory may load itself: in the database thread)."""
    directory = Directory.for_services(services)
    grid_reason = because("grid", Reason.NO_ADDRESS)
    if request.lat is not None and request.lon is not None:
        draft.grid_code = directory.locate(request.lon, request.lat)
        if draft.grid_code:
            grid_reason = because("grid", Reason.POINT_IN_GRID, lat=f"{request.lat:.5f}", lon=f"{request.lon:.5f}",
                                  grid=draft.grid_code)
    if draft.grid_code is None and (request.address or request.description):
        match = directory.match_address(request.address or request.description)
        if match is not None:
            draft.grid_code, draft.address_text = match.grid_code, match.address + (match.detail or "")
            grid_reason = because("grid", Reason.ADDRESS_MATCHED, how=match.how, address=match.address)
    draft.explanation.append({**grid_reason, "grid": draft.grid_code})


def _file(work: Work, services: Services, request: ApiRequest, nlu: NluResult, draft: CaseDraft) -> tuple[Case, bool]:
    """The unit of work: the grid, a resident record for the requester, the case (new or joined), the message."""
    _locate(services, request, draft)
    resident = Resident(
        name=request.name,
        phone=request.phone,
        grid_code=draft.grid_code,
        created_at=work.now,
        lat=request.lat,
        lon=request.lon,
        address_text=draft.address_text,
    )
    work.session.add(resident)
    work.session.flush()
    draft.resident_id = resident.id
    duplicate = find_duplicate(work.session, services.settings, draft, work.now)
    if duplicate is not None:
        case, created = join_case(work, duplicate, resident_id=resident.id, summary=request.description), False
    else:
        case, created = open_case(work, services.settings, draft), True
    work.session.add(
        Message(
            case_id=case.id,
            direction="in",
            channel="api",
            sender_kind="resident",
            resident_id=resident.id,
            text=request.description,
            nlu=nlu.to_rasa(),
            intent=nlu.intent,
            confidence=nlu.confidence,
            created_at=work.now,
        )
    )
    return case, created

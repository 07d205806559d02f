"""Service requests filed by other systems (Open311 clients) rather than by a resident in a chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridline.core.work import unit_of_work
from gridline.nlu.priority import assess_priority
from gridline.nlu.types import ISSUE_CATEGORIES, OTHER_CATEGORY
from gridline.routing.cases import CaseDraft, find_duplicate, join_case, open_case
from gridline.routing.directory import Directory
from gridline.storage.models import Case, Message, Resident

if TYPE_CHECKING:
    from gridline.core.services import Services


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
        category, reason = request.service_code, f"service_code {request.service_code} given by {request.client}"
    elif nlu.is_issue and nlu.confidence >= services.settings.nlu.confidence_threshold:
        category, reason = nlu.intent, f"NLU intent {nlu.intent} ({nlu.confidence:.2f})"
    else:
        category, reason = OTHER_CATEGORY, f"not understood ({nlu.intent} {nlu.confidence:.2f}): other"
    directory = Directory.for_services(services)
    grid_code: str | None = None
    grid_reason = "no location and no known address: triage"
    address_text = request.address
    if request.lat is not None and request.lon is not None:
        grid_code = directory.locate(request.lon, request.lat)
        grid_reason = f"point {request.lat:.5f},{request.lon:.5f} is in {grid_code}" if grid_code else grid_reason
    if grid_code is None and (request.address or request.description):
        match = directory.match_address(request.address or request.description)
        if match is not None:
            grid_code, address_text = match.grid_code, match.address + (match.detail or "")
            grid_reason = f"address matched the directory ({match.how}): {match.address}"
    priority = assess_priority(nlu)
    async with unit_of_work(services) as work:
        resident = Resident(
            name=request.name,
            phone=request.phone,
            grid_code=grid_code,
            created_at=work.now,
            lat=request.lat,
            lon=request.lon,
            address_text=address_text,
        )
        work.session.add(resident)
        work.session.flush()
        draft = CaseDraft(
            category=category,
            priority=priority.priority,
            grid_code=grid_code,
            summary=request.description,
            channel="api",
            resident_id=resident.id,
            address_text=address_text,
            lat=request.lat,
            lon=request.lon,
            nlu_confidence=nlu.confidence,
            explanation=[
                {"decision": "category", "category": category, "reason": reason, "engine": nlu.engine},
                {
                    "decision": "priority",
                    "priority": priority.priority,
                    "reason": "; ".join(priority.reasons) or "default",
                },
                {"decision": "grid", "grid": grid_code, "reason": grid_reason},
            ],
        )
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

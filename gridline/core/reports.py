"""From an understood report to a case: category, priority, grid — each decision with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gridline.core.answers import grid_name
from gridline.domain.explanations import Reason, because, priority_because
from gridline.domain.lifecycle import CaseStatus
from gridline.i18n.phrases import Phrase
from gridline.kernel.messages import InboundMessage
from gridline.kernel.work import Work
from gridline.nlu.complaints import COMPLAINT_CATEGORY, complaint_not_otherwise_read
from gridline.nlu.priority import assess_priority
from gridline.nlu.types import ISSUE_CATEGORIES, OTHER_CATEGORY, NluResult
from gridline.routing.cases import CaseDraft, already_reported, find_duplicate, join_case, open_case
from gridline.routing.directory import Directory
from gridline.routing.escalation import restart_escalation
from gridline.routing.pages import expire_other_pages
from gridline.routing.policy import policy_for
from gridline.routing.rota import who_is_on_duty
from gridline.routing.timeline import record_event
from gridline.storage import steps
from gridline.storage.models import Case
from gridline.storage.people import Sender

if TYPE_CHECKING:
    from gridline.kernel.services import Services


@dataclass
class ReportDecision:
    draft: CaseDraft
    priority: str
    ask_category: bool = False
    candidates: list[str] = field(default_factory=list)


@dataclass
class Filed:
    case: Case
    created: bool
    holder_name: str | None
    grid_name: str
    # The holder's role (``leader``, ``member`` …): at night the one on duty is often a team member.
    holder_role: str | None = None
    # Joined a case this resident had reported already (a follow-up): not counted as another reporter.
    again: bool = False
    # Its policy starts above the grid (a complaint about staff): nobody of the grid is paged first.
    above: bool = False


def _locate_report(
    services: Services,
    sender: Sender,
    nlu: NluResult,
    text: str,
    place: str | None = None,
    message: NluResult | None = None,
) -> tuple[str | None, str | None, dict[str, Any]]:
    """The grid a report is about: an address named in it, else — when it is one of several
    problems in one ``message`` — the address the message names, else the ``place`` the resident
    sent just before it (only an address, then the problem), else where the resident lives."""
    directory = Directory.for_services(services)
    resident = sender.resident
    named = nlu.entity("address") or nlu.entity("compound")
    match = directory.match_address(named) if named else None
    if match is None:
        match = directory.addresses.find_in_text(text)
    if match is None and not named and message is not None:
        # 「桐柏路199号院3号楼漏水，还有车堵门」: the car is at 3号楼 too.
        named = message.entity("address") or message.entity("compound")
        match = (directory.match_address(named) if named else None) or directory.addresses.find_in_text(message.text)
    # The report's own words name no place: the one sent before it is where the problem is.
    place = place if match is None and not named else None
    if place:
        match = directory.match_address(place) or directory.addresses.find_in_text(place)
    # A place the directory does not know still tells the leader where to go (the grid: the resident's).
    text_place = place if match is None else None
    if match is not None:
        return (
            match.grid_code,
            match.address + (match.detail or ""),
            {**because("grid", Reason.ADDRESS_MATCHED, how=match.how, address=match.address), "grid": match.grid_code},
        )
    if resident is not None and resident.grid_code:
        return (
            resident.grid_code,
            text_place or resident.address_text,
            {
                **because("grid", Reason.REGISTERED_GRID, address=resident.address_text or ""),
                "grid": resident.grid_code,
            },
        )
    return (
        None,
        text_place,
        {**because("grid", Reason.NO_ADDRESS), "grid": None},
    )


def decide_report(
    services: Services,
    work: Work,
    sender: Sender,
    nlu: NluResult,
    text: str,
    msg: InboundMessage,
    *,
    place: str | None = None,
    message: NluResult | None = None,
) -> ReportDecision:
    """Category, priority and grid of a report; ``place``: where it is when the resident sent that
    first; ``message``: the whole message, when the report is one of the problems it names
    (``core.conversation.several``)."""
    threshold = services.settings.nlu.confidence_threshold
    priority = assess_priority(nlu)
    issue_ranking = [s.name for s in nlu.ranking if s.name in ISSUE_CATEGORIES]
    if priority.priority == "emergency" and not nlu.is_issue:
        # A danger the rules see in words the model read as a question or small talk.
        category, ask = "emergency", False
        category_reason = because("category", Reason.DANGER_IN_WORDS, intent=nlu.intent, confidence=nlu.confidence)
    elif complaint_not_otherwise_read(nlu, text, threshold):
        # 「网格长一直不接电话」: read as "who is my leader?" or a vague report, it went to that leader.
        category, ask = COMPLAINT_CATEGORY, False
        category_reason = because("category", Reason.COMPLAINT_IN_WORDS, intent=nlu.intent, confidence=nlu.confidence)
    elif nlu.is_issue and nlu.confidence >= threshold:
        category, ask = nlu.intent, False
        category_reason = because("category", Reason.NLU_SURE, intent=nlu.intent, confidence=nlu.confidence,
                                  threshold=threshold)
    elif nlu.intent == OTHER_CATEGORY or not issue_ranking:
        category, ask = OTHER_CATEGORY, False
        category_reason = because("category", Reason.NOT_UNDERSTOOD, intent=nlu.intent, confidence=nlu.confidence)
    else:
        category, ask = issue_ranking[0], True
        category_reason = because("category", Reason.NLU_UNSURE, intent=nlu.intent, confidence=nlu.confidence,
                                  threshold=threshold, guess=category)
    if priority.priority == "emergency":
        ask = False  # never make someone in danger answer a quiz first
    grid_code, address_text, grid_reason = _locate_report(services, sender, nlu, text, place, message)
    resident = sender.resident
    draft = CaseDraft(
        category=category,
        priority=priority.priority,
        grid_code=grid_code,
        summary=text,
        channel=msg.channel,
        resident_id=resident.id if resident else None,
        address_text=address_text,
        lat=resident.lat if resident else None,
        lon=resident.lon if resident else None,
        nlu_confidence=nlu.confidence,
        explanation=[
            {
                **category_reason,
                "category": category,
                "engine": nlu.engine,
                "model_version": nlu.model_version,
                "data_hash": nlu.data_hash,
                "ranking": [{"name": s.name, "confidence": round(s.confidence, 4)} for s in nlu.ranking[:5]],
            },
            {**priority_because(priority.reasons), "priority": priority.priority},
            grid_reason,
        ],
        start_delay_minutes=_first_wait(services, ask, grid_code, priority.priority),
    )
    return ReportDecision(draft=draft, priority=priority.priority, ask_category=ask, candidates=issue_ranking[:3])


def _first_wait(services: Services, ask: bool, grid_code: str | None, priority: str) -> float:
    """How long the first step waits: for the resident's category choice, for the address they are
    asked for (supervisors are paged only when it does not come), or not at all (an emergency)."""
    cases_settings = services.settings.cases
    wait = cases_settings.choice_timeout_minutes if ask else 0.0
    if grid_code is None and priority != "emergency":
        wait = max(wait, cases_settings.address_wait_minutes)
    return wait


GRID_TARGETS = ("on_duty_leader", "backup", "leader")


def _holder(services: Services, work: Work, grid_code: str | None) -> tuple[str | None, str | None]:
    """The name and role of who is on duty in ``grid_code`` now (None, None: nobody)."""
    if grid_code is None:
        return None, None
    people = who_is_on_duty(work.session, grid_code, work.now, services.settings.timezone, role="primary")
    return (people[0].name, people[0].role) if people else (None, None)


def file_report(services: Services, work: Work, sender: Sender, decision: ReportDecision) -> Filed:
    """Join an open duplicate or open a new case."""
    draft = decision.draft
    if not decision.ask_category:
        duplicate = find_duplicate(work.session, services.settings, draft, work.now)
        if duplicate is not None:
            again = already_reported(work.session, duplicate, draft.resident_id)
            join_case(work, duplicate, resident_id=draft.resident_id, summary=draft.summary, channel=draft.channel,
                      again=again)  # fmt: skip
            return Filed(duplicate, False, None, grid_name(work, duplicate.grid_code), again=again)
    case = open_case(work, services.settings, draft, Directory.for_services(services))
    if not _first_pages_the_grid(case):
        # A complaint about the grid's own people goes above them: naming who is on duty there would
        # tell the resident it went to the very person they complain about.
        return Filed(case, True, None, grid_name(work, case.grid_code), above=True)
    name, role = _holder(services, work, case.grid_code)
    return Filed(case, True, name, grid_name(work, case.grid_code), role)


def _first_pages_the_grid(case: Case) -> bool:
    steps = case.policy.get("steps") or [{}]
    return any(target in GRID_TARGETS for target in steps[0].get("notify", ()))


def _page_now(work: Work, case: Case) -> None:
    """Bring a waiting first step forward to now."""
    step = steps.first_pending(work.session, case.id or 0)
    if step is not None and step.due_at > work.now:
        step.due_at = work.now
        work.job("run_escalation_step", f"step:{step.id}:now", work.now, step_id=step.id)


def apply_category_choice(services: Services, work: Work, case: Case, category: str) -> Phrase:
    """The resident picked a category for their unclear report; the reply to send them."""
    if category != OTHER_CATEGORY and category not in ISSUE_CATEGORIES:
        return Phrase("conversation.choice_expired")
    if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        return Phrase("conversation.choice_expired")
    previous = case.category
    case.category = category
    case.updated_at = work.now
    case.explanation = [
        *case.explanation,
        {**because("category", Reason.CHOSEN_BY_RESIDENT, previous=previous), "category": category},
    ]
    record_event(work, case.id or 0, "recategorised", "resident", {"from": previous, "to": category})
    _page_now(work, case)
    return Phrase("case.category_confirmed", {"ref": case.ref, "category": Phrase(f"category.{category}")})


def reroute_after_registration(
    services: Services, work: Work, case: Case, grid_code: str, address_text: str | None = None
) -> None:
    """A triage case learns its grid: re-snapshot the policy and page that grid's people now. The
    supervisors paged only because nobody knew where it was are told it went to the grid."""
    case.grid_code = grid_code
    if address_text and not case.address_text:
        case.address_text = address_text  # where to go, on the page and in the console
    case.policy = policy_for(services.settings, case.priority, case.category).snapshot()
    case.updated_at = work.now
    case.explanation = [
        *case.explanation,
        {**because("grid", Reason.GIVEN_AFTER_REPORT), "grid": grid_code},
    ]
    record_event(work, case.id or 0, "rerouted", "resident", {"grid": grid_code})
    expire_other_pages(work, case, None, "page.note_rerouted", grid=grid_name(work, grid_code))
    restart_escalation(work, case, "rerouted")

"""Conversations: every exchange with a resident on one channel, whether or not it became a case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from gridline.console.access import Viewer, message_scope
from gridline.console.filters import MAX_PAGE, PAGE_SIZE, _flag, like_pattern, local_day_bounds, parse_date
from gridline.console.grids import GridTree
from gridline.edge.text import ascii_int
from gridline.storage import cases
from gridline.storage import conversations as conversation_store
from gridline.storage.models import ChannelIdentity, Conversation, Message, NluCorrection, Resident


@dataclass(frozen=True)
class ConversationFilters:
    grid: str = ""
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None
    low_confidence: bool = False
    without_case: bool = False
    q: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> ConversationFilters:
        page = params.get("page", "1")
        return cls(
            grid=params.get("grid", "").strip(),
            channel=params.get("channel", "").strip(),
            date_from=parse_date(params.get("from")),
            date_to=parse_date(params.get("to")),
            low_confidence=_flag(params.get("lowconf")),
            without_case=_flag(params.get("nocase")),
            q=params.get("q", "").strip()[:200],
            page=ascii_int(page, lowest=1, highest=MAX_PAGE) or 1,
        )

    def to_query(self, **changes: object) -> dict[str, str]:
        out = {
            "grid": self.grid, "channel": self.channel, "q": self.q,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "lowconf": "1" if self.low_confidence else "", "nocase": "1" if self.without_case else "",
            "page": str(self.page) if self.page != 1 else "",
        }
        out.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in out.items() if v}


@dataclass
class ConversationRow:
    conversation: Conversation
    identity: ChannelIdentity | None
    resident: Resident | None
    grid_name: str
    message_count: int
    last_text: str
    case_refs: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class ConversationPage:
    rows: list[ConversationRow]
    total: int
    page: int
    pages: int


def list_conversations(
    session: Session,
    viewer: Viewer,
    filters: ConversationFilters,
    tree: GridTree,
    *,
    tz: ZoneInfo,
    confidence_threshold: float,
) -> ConversationPage:
    lo, hi = local_day_bounds(filters.date_from, filters.date_to, tz)
    conversations, total, page, pages = conversation_store.page_of_conversations(
        session,
        scope=message_scope(viewer),
        only_visible=not viewer.sees_everything,
        channel=filters.channel,
        grid_codes=(sorted(tree.subtree(filters.grid)) or [filters.grid]) if filters.grid else (),
        active_from=lo,
        started_before=hi,
        confidence_below=confidence_threshold if filters.low_confidence else None,
        without_case=filters.without_case,
        text_like=like_pattern(filters.q) if filters.q else "",
        page=filters.page,
        page_size=PAGE_SIZE,
    )
    return ConversationPage(
        rows=[_row(session, viewer, c, tree) for c in conversations], total=total, page=page, pages=pages
    )


def _row(session: Session, viewer: Viewer, conversation: Conversation, tree: GridTree) -> ConversationRow:
    count, last, refs = conversation_store.conversation_summary(
        session, conversation.id or 0, scope=message_scope(viewer)
    )
    resident = session.get(Resident, conversation.resident_id) if conversation.resident_id else None
    identity = session.get(ChannelIdentity, conversation.identity_id) if conversation.identity_id else None
    return ConversationRow(
        conversation=conversation,
        identity=identity,
        resident=resident,
        grid_name=tree.short_name(resident.grid_code) if resident else "",
        message_count=count,
        last_text=(last.text or "") if last else "",
        case_refs=refs,
    )


@dataclass
class ConversationDetail:
    conversation: Conversation
    identity: ChannelIdentity | None
    resident: Resident | None
    messages: list[Message]
    corrections: dict[int, NluCorrection]
    case_refs: dict[int, str]


def load_conversation(
    session: Session, viewer: Viewer, conversation_id: int, now: datetime
) -> ConversationDetail | None:
    """The conversation with the messages the viewer may see; None when there are none to see."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    messages = conversation_store.messages_of_conversation(session, conversation_id, scope=message_scope(viewer))
    if not messages and not viewer.sees_everything:
        return None
    corrections = conversation_store.latest_corrections(session, [m.id for m in messages if m.id is not None])
    refs = cases.refs_by_id(session, sorted({m.case_id for m in messages if m.case_id is not None}))
    return ConversationDetail(
        conversation=conversation,
        identity=session.get(ChannelIdentity, conversation.identity_id) if conversation.identity_id else None,
        resident=session.get(Resident, conversation.resident_id) if conversation.resident_id else None,
        messages=messages,
        corrections=corrections,
        case_refs={k: v for k, v in refs.items() if k is not None},
    )

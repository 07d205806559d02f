"""Who is chatting in the sandbox: a demo resident chosen from a list, or an anonymous newcomer.

A demo resident chats through a web identity ``resident-<id>`` linked to their Resident row, so the
core recognises them (registered grid, language, earlier cases). An anonymous visitor gets
``anon-<session>``; the core creates a fresh resident for it on the first message, exactly as for
an unknown Telegram user.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session

from gridline.storage import people
from gridline.storage.models import ChannelIdentity, Resident

CHANNEL = "web"
SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def resident_external_id(resident_id: int) -> str:
    return f"resident-{resident_id}"


def anonymous_external_id(session_id: str) -> str:
    return f"anon-{session_id}"


def web_identity(session: Session, external_id: str) -> ChannelIdentity | None:
    return people.find_identity(session, CHANNEL, external_id)


def ensure_resident_identity(session: Session, resident: Resident, now: datetime) -> ChannelIdentity:
    """The web identity of a demo resident, created (and linked) the first time they chat."""
    assert resident.id is not None
    external_id = resident_external_id(resident.id)
    identity = web_identity(session, external_id)
    if identity is None:
        identity = ChannelIdentity(channel=CHANNEL, external_id=external_id, bot_name="",
                                   resident_id=resident.id, display=resident.name, created_at=now)
        session.add(identity)
        session.flush()
    elif identity.resident_id is None:
        identity.resident_id = resident.id
    return identity

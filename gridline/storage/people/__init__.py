"""People: residents, staff, and the channel identities they write from.

The only package that builds queries on ``residents``, ``staff`` (by phone or role) and
``channel_identities`` for the conversation side. Every function takes the session of the unit of
work it runs in (``gridline.kernel.work.in_transaction``).

The records are ``people.records`` and the identification of a message's sender ``people.senders``;
every name is importable from here.
"""

from __future__ import annotations

from gridline.storage.people.records import (
    active_staff_by_code,
    active_staff_by_phone,
    find_identity,
    find_telegram_identity,
    first_resident_with_phone,
    grid_leader,
    identities_of_resident,
    identity_reaching,
    lang_of,
    latest_conversation,
    link_code,
    named_registered_residents,
    opted_out_of_sms,
    reachable_identities,
    residents_with_phone,
    staff_by_code,
    use_link_code,
)
from gridline.storage.people.senders import (
    CONVERSATION_PAUSE,
    PHONE_CHANNELS,
    Sender,
    SenderFacts,
    identify,
    identify_unless_received,
    link_resident_by_phone,
    new_identity,
)

__all__ = [
    "CONVERSATION_PAUSE",
    "PHONE_CHANNELS",
    "Sender",
    "SenderFacts",
    "active_staff_by_code",
    "active_staff_by_phone",
    "find_identity",
    "find_telegram_identity",
    "first_resident_with_phone",
    "grid_leader",
    "identify",
    "identify_unless_received",
    "identities_of_resident",
    "identity_reaching",
    "lang_of",
    "latest_conversation",
    "link_code",
    "link_resident_by_phone",
    "named_registered_residents",
    "new_identity",
    "opted_out_of_sms",
    "reachable_identities",
    "residents_with_phone",
    "staff_by_code",
    "use_link_code",
]

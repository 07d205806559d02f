"""SQLModel tables: the database is the truth.

One module per concept; import from here. Every stored time is UTC (``UTCDateTime``).
Enumerations are stored as plain strings; the allowed values and transitions live in the domain
modules (``gridline.domain.lifecycle``).
"""

from gridline.storage.models.audit import AuditLog, ConsoleUser, StaffLinkCode
from gridline.storage.models.broadcasts import Broadcast, PacingLane
from gridline.storage.models.cases import (
    Acknowledgement,
    Case,
    CaseEvent,
    EscalationStep,
    Page,
)
from gridline.storage.models.checkins import CheckIn, CheckInEvent, CheckInStep, Sweep
from gridline.storage.models.console import ConsoleSession
from gridline.storage.models.conversations import Conversation, InboundEvent, Message, NluCorrection
from gridline.storage.models.evidence import Evidence, FollowUpCall
from gridline.storage.models.followups import FollowUp
from gridline.storage.models.grids import Address, DirectoryVersion, Grid
from gridline.storage.models.households import Household, HouseholdPerson
from gridline.storage.models.inbox import InboxLoginLink, PushSubscription
from gridline.storage.models.people import (
    ChannelIdentity,
    ContactMethod,
    DutyOverride,
    DutyShift,
    Resident,
    Staff,
)
from gridline.storage.models.transfers import Extension, Transfer, TransferTimer
from gridline.storage.models.visits import Visit, VisitDigest, VisitEvent

__all__ = [
    "Acknowledgement",
    "Address",
    "AuditLog",
    "Broadcast",
    "Case",
    "CaseEvent",
    "ChannelIdentity",
    "CheckIn",
    "CheckInEvent",
    "CheckInStep",
    "ConsoleSession",
    "ConsoleUser",
    "ContactMethod",
    "Conversation",
    "DirectoryVersion",
    "DutyOverride",
    "DutyShift",
    "EscalationStep",
    "Evidence",
    "Extension",
    "FollowUp",
    "FollowUpCall",
    "Grid",
    "Household",
    "HouseholdPerson",
    "InboundEvent",
    "InboxLoginLink",
    "Message",
    "NluCorrection",
    "PacingLane",
    "Page",
    "PushSubscription",
    "Resident",
    "Staff",
    "StaffLinkCode",
    "Sweep",
    "Transfer",
    "TransferTimer",
    "Visit",
    "VisitDigest",
    "VisitEvent",
]

"""The sweep store (走千家 at scale): the only module that queries ``sweeps``, reads the households
a sweep targets and writes a sweep's check-ins, steps, events and identities in bulk (one statement
per 1,000 rows; see ``routing.sweeps``). Single check-ins live in ``storage.checkins``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from gridline.storage.bulk import chunks
from gridline.storage.models import ChannelIdentity, CheckIn, Household, HouseholdPerson, Message, Sweep


@dataclass(frozen=True)
class SweepTarget:
    household_id: int
    grid_code: str
    person_id: int | None
    phone: str | None
    resident_id: int | None
    lang: str
    channel: str


def sweep_targets(session: Session, grid_codes: Sequence[str], tags: Sequence[str]) -> list[SweepTarget]:
    """Every household on the roster in the grids (with one of the tags, when tags are given) and
    the member who is asked: the first one with a phone (a household with none is still targeted)."""
    households: list[Household] = []
    for batch in chunks(sorted(set(grid_codes))):
        households.extend(
            session.exec(
                select(Household)
                .where(col(Household.removed_at).is_(None), col(Household.grid_code).in_(list(batch)))
                .order_by(col(Household.id))
            )
        )
    wanted = set(tags)
    if wanted:
        households = [h for h in households if wanted & set(h.tags or [])]
    members: dict[int, HouseholdPerson] = {}
    ids = [h.id or 0 for h in households]
    for id_batch in chunks(ids):
        for person in session.exec(
            select(HouseholdPerson)
            .where(
                col(HouseholdPerson.household_id).in_(list(id_batch)), HouseholdPerson.kind == "member",
                col(HouseholdPerson.removed_at).is_(None),
            )
            .order_by(col(HouseholdPerson.household_id), col(HouseholdPerson.position))
        ):
            if person.household_id not in members and (person.phone or person.resident_id):
                members[person.household_id] = person
    targets = []
    for household in households:
        member = members.get(household.id or 0)
        channel = (member.checkin_channel or "sms") if member is not None else "none"
        targets.append(
            SweepTarget(
                household_id=household.id or 0,
                grid_code=household.grid_code,
                person_id=member.id if member else None,
                phone=member.phone if member else None,
                resident_id=member.resident_id if member else None,
                lang=household.lang,
                channel=channel,
            )
        )
    return targets


def add_sweep(session: Session, sweep: Sweep) -> Sweep:
    session.add(sweep)
    session.flush()
    return sweep


def get_sweep(session: Session, sweep_id: int) -> Sweep | None:
    return session.get(Sweep, sweep_id)


def recent_sweeps(session: Session, limit: int = 50) -> list[Sweep]:
    return list(session.exec(select(Sweep).order_by(col(Sweep.id).desc()).limit(limit)))


def identities_by_target(session: Session, channel: str, external_ids: Iterable[str]) -> dict[str, ChannelIdentity]:
    """The identities (without a bot name) of these numbers on ``channel``."""
    found: dict[str, ChannelIdentity] = {}
    for batch in chunks(sorted(set(external_ids))):
        for identity in session.exec(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == channel,
                col(ChannelIdentity.external_id).in_(list(batch)),
                ChannelIdentity.bot_name == "",
            )
        ):
            found.setdefault(identity.external_id, identity)
    return found


def insert_returning(
    session: Session, model: type[Any], rows: list[dict[str, Any]], columns: Sequence[str]
) -> list[Any]:
    """INSERT ``rows`` in batches (one statement per 1,000 rows on SQLite and PostgreSQL) and return
    ``id`` plus ``columns`` of every row, in no particular order: the caller maps them back by a key
    unique among the rows (asking for the parameters' order costs one statement per row on SQLite)."""
    found: list[Any] = []
    table = model.__table__
    returned = [table.c.id, *(table.c[name] for name in columns)]
    for batch in chunks(rows, 1000):
        found.extend(session.execute(insert(table).returning(*returned), list(batch)).all())
    return found


def insert_plain(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    for batch in chunks(rows, 1000):
        session.execute(insert(model.__table__), list(batch))


def set_message_ids(session: Session, pairs: Sequence[tuple[int, int]]) -> None:
    """Record the question message of each check-in (checkin id, message id)."""
    from sqlalchemy import bindparam

    table = CheckIn.__table__  # type: ignore[attr-defined]
    statement = update(table).where(table.c.id == bindparam("cid")).values(message_ids=bindparam("mids"))
    for batch in chunks(list(pairs), 1000):
        session.execute(statement, [{"cid": c, "mids": [m]} for c, m in batch])


def sweep_coverage(session: Session, sweep_id: int) -> dict[str, int]:
    """How many of the sweep's questions are in each status."""
    counts = Counter(s for s in session.exec(select(CheckIn.status).where(CheckIn.sweep_id == sweep_id)))
    return dict(counts)


def sweep_questions(session: Session, sweep_id: int, *, status: str | None = None, limit: int = 200) -> list[CheckIn]:
    query = select(CheckIn).where(CheckIn.sweep_id == sweep_id)
    if status:
        query = query.where(CheckIn.status == status)
    return list(session.exec(query.order_by(col(CheckIn.grid_code), col(CheckIn.id)).limit(limit)))


def questions_sent(session: Session, message_ids: Sequence[int]) -> dict[str, int]:
    """Delivery statuses of the given outbound messages (a sweep's questions)."""
    counts: Counter[str] = Counter()
    for batch in chunks(list(message_ids)):
        counts.update(s for s in session.exec(select(Message.status).where(col(Message.id).in_(list(batch)))))
    return dict(counts)

"""Queries of the staff web inbox: what a staff member has open, their push subscriptions, and the
one-time sign-in links (issued, counted, redeemed once by a conditional UPDATE)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, update
from sqlmodel import Session, col, select

from gridline.clock import as_utc
from gridline.storage.models import Case, InboxLoginLink, Message, Page, PushSubscription

# The status values of gridline.domain.lifecycle (storage sits below routing, so it names them).
OPEN_PAGE_STATUSES = ("scheduled", "sending", "sent", "delivered")
CLOSED_CASE_STATUSES = ("resolved", "closed")


def open_pages(session: Session, staff_id: int, *, limit: int = 100) -> list[tuple[Page, Case]]:
    """The staff member's pages still waiting for an answer, newest first, with their cases."""
    rows = session.exec(
        select(Page, Case).join(Case, col(Case.id) == col(Page.case_id))
        .where(Page.staff_id == staff_id, col(Page.status).in_(OPEN_PAGE_STATUSES),
               col(Case.status).not_in(CLOSED_CASE_STATUSES))
        .order_by(col(Page.created_at).desc(), col(Page.id).desc()).limit(limit)
    ).all()
    return [(page, case) for page, case in rows]


def held_cases(session: Session, staff_id: int, *, exclude: set[int], limit: int = 100) -> list[Case]:
    """Cases the staff member has taken (acknowledged or assigned) and not yet resolved."""
    return list(session.exec(
        select(Case).where(
            or_(col(Case.acknowledged_by) == staff_id, col(Case.assignee_staff_id) == staff_id),
            col(Case.status).not_in(CLOSED_CASE_STATUSES), col(Case.id).not_in(exclude or {0}),
        ).order_by(col(Case.updated_at).desc(), col(Case.id).desc()).limit(limit)
    ))


def inbox_case(session: Session, staff_id: int, case_id: int) -> Case | None:
    """The case if it is in this staff member's inbox (paged to them, or theirs), else None."""
    paged = exists(select(Page.id).where(Page.case_id == Case.id, Page.staff_id == staff_id))
    return session.exec(select(Case).where(
        Case.id == case_id,
        or_(paged, col(Case.acknowledged_by) == staff_id, col(Case.assignee_staff_id) == staff_id,
            col(Case.resolved_by) == staff_id),
    )).first()


def latest_page(session: Session, staff_id: int, case_id: int) -> Page | None:
    return session.exec(
        select(Page).where(Page.case_id == case_id, Page.staff_id == staff_id).order_by(col(Page.id).desc())
    ).first()


def save_subscription(session: Session, *, staff_id: int, endpoint: str, p256dh: str, auth: str,
                      user_agent: str | None, now: datetime) -> PushSubscription:
    """Store (or move to this staff member) the browser's push subscription."""
    row = session.exec(select(PushSubscription).where(PushSubscription.endpoint == endpoint)).first()
    if row is None:
        row = PushSubscription(staff_id=staff_id, endpoint=endpoint, p256dh=p256dh, auth=auth, created_at=now)
    row.staff_id, row.p256dh, row.auth, row.failures = staff_id, p256dh, auth, 0
    row.user_agent = (user_agent or "")[:300] or None
    session.add(row)
    session.flush()
    return row


def drop_subscription(session: Session, *, staff_id: int, endpoint: str) -> bool:
    row = session.exec(select(PushSubscription).where(
        PushSubscription.endpoint == endpoint, PushSubscription.staff_id == staff_id)).first()
    if row is None:
        return False
    session.delete(row)
    return True


def subscriptions_of(session: Session, staff_id: int) -> list[PushSubscription]:
    return list(session.exec(select(PushSubscription).where(PushSubscription.staff_id == staff_id)
                             .order_by(col(PushSubscription.id))))


def record_push(session: Session, subscription_id: int, *, ok: bool, gone: bool, now: datetime) -> None:
    """After a push: remember success, count a failure, or forget a subscription the service dropped."""
    row = session.get(PushSubscription, subscription_id)
    if row is None:
        return
    if gone:
        session.delete(row)
    elif ok:
        row.last_push_at, row.failures = now, 0
        session.add(row)
    else:
        row.failures += 1
        session.add(row)


def links_issued_since(session: Session, staff_id: int, since: datetime) -> int:
    return int(session.exec(select(func.count()).select_from(InboxLoginLink).where(
        InboxLoginLink.staff_id == staff_id, col(InboxLoginLink.created_at) >= since)).one())


def add_login_link(session: Session, *, staff_id: int, token_hash: str, channel: str, now: datetime,
                   minutes: int) -> InboxLoginLink:
    link = InboxLoginLink(staff_id=staff_id, token_hash=token_hash, channel=channel, created_at=now,
                          expires_at=now + timedelta(minutes=minutes))
    session.add(link)
    session.flush()
    return link


def redeem_login_link(session: Session, token_hash: str, now: datetime) -> int | None:
    """Use a link: the staff id if it was unused and not expired (one conditional UPDATE, so two
    clicks at once cannot both win), else None."""
    used = session.execute(
        update(InboxLoginLink)
        .where(col(InboxLoginLink.token_hash) == token_hash, col(InboxLoginLink.used_at).is_(None),
               col(InboxLoginLink.expires_at) > now)
        .values(used_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if used != 1:
        return None
    staff_id = session.exec(select(InboxLoginLink.staff_id).where(InboxLoginLink.token_hash == token_hash)).first()
    return int(staff_id) if staff_id is not None else None


def live_link_staff_id(session: Session, token_hash: str, now: datetime) -> int | None:
    """Whose unused, unexpired link this is (without using it), or None."""
    link = session.exec(select(InboxLoginLink).where(InboxLoginLink.token_hash == token_hash)).first()
    if link is None or link.used_at is not None or as_utc(link.expires_at) <= now:
        return None
    return link.staff_id


def blank_link_token(session: Session, staff_id: int, token: str, marker: str = "/console/inbox/link/") -> int:
    """Blank a used link's token in the outbound message that carried it (the outbox keeps the text),
    so no copy of the database holds it; returns how many messages changed."""
    rows = session.exec(select(Message).where(
        Message.staff_id == staff_id, Message.direction == "out", col(Message.text).contains(marker))).all()
    changed = 0
    for message in rows:
        if message.text and token in message.text:
            message.text = message.text.replace(token, "…")
            session.add(message)
            changed += 1
    return changed

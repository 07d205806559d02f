"""A staff member hands over their own shift (交班 / 代班): ``/cover MBR-GX01-01-2 12-05 08:00 20:00 理由``.

The hand-over is a rota override of kind ``cover`` with ``replaces_staff_code`` (docs/import-formats.md):
while it lasts the covering person takes the handing-over person's place in who is on duty, so pages,
calls put through and ``/duty`` follow it at once (the directory cache sees the new row). One override is
written per (grid, role) the person is on duty for in the window, clipped to their duty there; each
is audited (``rota.cover``) and the covering person is told on their first channel.

Who may cover: an active leader or member of the grid whose shift it is — its own team, who know its
households and are on its rota already — never the person handing over. The window must lie ahead (``现在`` /
``now`` starts it at once), last at most :data:`MAX_DAYS` days, and meet a shift of the sender's.
Someone on the rota of more than one grid names the grid (``/cover GX01-01-2 MBR-… …``); without it,
shifts of two grids in the window are not guessed at: the answer asks which, and nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from gridline.domain.lifecycle import StaffRole
from gridline.i18n import WEEKDAY_KEYS
from gridline.i18n.phrases import Lines, Phrase, lines
from gridline.kernel.work import Work
from gridline.routing.cover_grammar import CoverAsk
from gridline.routing.rota import shifts_for_staff
from gridline.routing.visit_escalation import tell_staff
from gridline.settings import Settings
from gridline.storage import audit, directory
from gridline.storage.models import DutyOverride, Staff

MAX_DAYS = 7
COVER_ROLES = (StaffRole.LEADER.value, StaffRole.MEMBER.value)


@dataclass(frozen=True)
class Handover:
    """What came of a ``/cover``: ``ok``, what the sender is told, and the overrides written."""

    ok: bool
    said: Phrase
    overrides: tuple[DutyOverride, ...] = ()


def hand_over(work: Work, settings: Settings, staff: Staff, ask: CoverAsk) -> Handover:
    """Record ``ask`` for ``staff``'s own shifts (see the module's rules), audit it, tell the cover."""
    session, tz = work.session, settings.timezone
    if ask.ends_at <= work.now:
        return Handover(False, Phrase("rota.cover.past"))
    starts_at = max(ask.starts_at, work.now)
    if ask.ends_at - starts_at > timedelta(days=MAX_DAYS):
        return Handover(False, Phrase("rota.cover.too_long", {"days": MAX_DAYS}))
    cover = directory.staff_by_codes(session, [ask.staff_code]).get(ask.staff_code)
    if cover is None or not cover.active:
        return Handover(False, Phrase("rota.cover.unknown_staff", {"code": ask.staff_code}))
    if cover.id == staff.id:
        return Handover(False, Phrase("rota.cover.self"))
    # Whole shifts that meet the window, clipped to it: only the asked hours change hands.
    duty = _merged([(max(a, starts_at), min(b, ask.ends_at), grid, role)
                    for a, b, grid, role in shifts_for_staff(session, staff.code, starts_at, ask.ends_at, tz)
                    if max(a, starts_at) < min(b, ask.ends_at)])  # fmt: skip
    window = {"start": _local(tz, starts_at), "end": _local(tz, ask.ends_at)}
    if not duty:
        return Handover(False, Phrase("rota.cover.no_shift", window))
    grid_codes = {grid for _, _, grid, _ in duty}
    if ask.grid_code is not None and ask.grid_code not in grid_codes:
        named = directory.grids_by_codes(session, {ask.grid_code}).get(ask.grid_code)
        return Handover(False, Phrase("rota.cover.no_shift_in_grid",
                                      {**window, "grid": named.name if named else ask.grid_code}))
    if ask.grid_code is not None:
        duty, grid_codes = [d for d in duty if d[2] == ask.grid_code], {ask.grid_code}
    elif len(grid_codes) > 1:
        # Shifts on more than one grid: which one? Nothing is recorded until the sender says.
        return Handover(False, _which_grid(session, tz, duty, ask, cover.grid_code))
    if cover.role not in COVER_ROLES or cover.grid_code not in grid_codes:
        first = min(grid_codes)
        home = directory.grids_by_codes(session, {first}).get(first)
        return Handover(False, Phrase("rota.cover.not_colleague",
                                      {"name": cover.name, "grid": home.name if home else first}))
    duty = [d for d in duty if d[2] == cover.grid_code]
    reason = ask.reason or None
    written = []
    for start, end, grid, role in duty:
        override = DutyOverride(grid_code=grid, role=role, kind="cover", staff_code=cover.code,
                                replaces_staff_code=staff.code, starts_at=start, ends_at=end, reason=reason)
        session.add(override)
        written.append(override)
    session.flush()
    for override in written:
        audit.record(session, at=work.now, actor=f"staff:{staff.code}", action="rota.cover",
                     target_kind="duty_override", target_id=override.id or "",
                     detail={"grid": override.grid_code, "role": override.role, "cover": cover.code,
                             "replaces": staff.code, "starts_at": override.starts_at.isoformat(),
                             "ends_at": override.ends_at.isoformat(), "reason": reason})  # fmt: skip
    shifts = windows_text(session, tz, duty)
    asked = (Phrase("rota.cover.asked", {"by": staff.name, "shifts": shifts, "reason": reason}) if reason
             else Phrase("rota.cover.asked_no_reason", {"by": staff.name, "shifts": shifts}))
    told = tell_staff(work, cover, asked, settings=settings)
    key = "rota.cover.done" if told else "rota.cover.done_untold"
    return Handover(True, Phrase(key, {"name": cover.name, "shifts": shifts}), tuple(written))


Duty = tuple[datetime, datetime, str, str]


def _which_grid(session: Session, tz: str, duty: list[Duty], ask: CoverAsk, cover_grid: str | None) -> Phrase:
    """「这段时间您在不止一个网格有班，交哪个网格的？」: each grid with its code and shifts in the window,
    and the command again with a grid code in front — the covering colleague's grid when it is one of
    them, else the first — to send as it is or with another code."""
    zone = ZoneInfo(tz)
    codes = sorted({grid for _, _, grid, _ in duty})
    names = {code: g.name for code, g in directory.grids_by_codes(session, set(codes)).items()}
    said: list[Phrase] = []
    for code in codes:
        pieces = [Phrase("rota.cover.which_grid_shift" if role != "backup" else "rota.cover.which_grid_backup",
                         window_facts(start, end, zone, ""))
                  for start, end, grid, role in duty if grid == code]  # fmt: skip
        said.append(Phrase("rota.cover.which_grid_line", {"code": code, "name": names.get(code, code),
                                                          "shifts": pieces}))  # fmt: skip
    example = cover_grid if cover_grid in codes else codes[0]
    facts = {"grids": Lines(tuple(said)), "example": _example(example, ask, tz)}
    return Phrase("rota.cover.which_grid", facts)


def _example(grid: str, ask: CoverAsk, tz: str) -> str:
    """The /cover arguments again, with ``grid`` in front (``GX01-01-2 MBR-GX01-01-2 12-05 08:00 20:00 …``)."""
    zone = ZoneInfo(tz)
    start, end = ask.starts_at.astimezone(zone), ask.ends_at.astimezone(zone)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%m-%d %H:%M}"
    return " ".join(w for w in (grid, ask.staff_code, f"{start:%m-%d %H:%M}", until, ask.reason) if w)


def _merged(duty: list[Duty]) -> list[Duty]:
    """Back-to-back pieces of the same grid and role as one (two rota rows meeting at 08:00)."""
    out: list[Duty] = []
    for start, end, grid, role in sorted(duty, key=lambda d: (d[2], d[3], d[0])):
        if out and out[-1][2:] == (grid, role) and out[-1][1] >= start:
            out[-1] = (out[-1][0], max(out[-1][1], end), grid, role)
        else:
            out.append((start, end, grid, role))
    return sorted(out)


def window_facts(start_utc: datetime, end_utc: datetime, zone: ZoneInfo, where: str) -> dict[str, Any]:
    """A shift's facts as its lines say them: weekday, ``12-04 08:00``, until ``20:00`` (or a date and
    time on another day), and the grid — the same in /duty and in a handover's texts."""
    start, end = start_utc.astimezone(zone), end_utc.astimezone(zone)
    return {
        "day": Phrase(f"weekday.{WEEKDAY_KEYS[start.weekday()]}"),
        "start": f"{start:%m-%d %H:%M}",
        "until": f"{end:%H:%M}" if end.date() == start.date() else f"{end:%m-%d %H:%M}",
        "where": where,
    }


def windows_text(session: Session, tz: str, duty: list[Duty]) -> Phrase:
    """One line per handed-over piece: ``• 周五 12-04 08:00–20:00 · 莲花社区第二网格（备班）``."""
    zone = ZoneInfo(tz)
    names = {code: g.name for code, g in directory.grids_by_codes(session, {d[2] for d in duty}).items()}
    said = []
    for start_utc, end_utc, grid, role in duty:
        facts = window_facts(start_utc, end_utc, zone, names.get(grid, grid))
        key = "rota.cover.line_backup" if role == "backup" else "rota.cover.line"
        said.append(Phrase(key, facts))
    return lines(said)


def _local(tz: str, at: datetime) -> str:
    return f"{at.astimezone(ZoneInfo(tz)):%m-%d %H:%M}"

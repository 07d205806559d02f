"""三率 on the dashboard: response within the limit, solved as the resident confirmed, satisfied among rated —
each with its coverage — overdue cases, the level things were solved at, and a fair comparison of leaders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gridline.console.metrics import CaseFact, expected_solve_rates, summarise
from gridline.storage.models import CaseEvent
from tests.console.factories import CaseFactory

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def fact(i: int, category: str, *, staff: int, confirmed: bool = False, reopened: bool = False,
         acked_after: float | None = 10, rating: int | None = None, resolved: bool = True) -> CaseFact:
    return CaseFact(
        id=i, created_at=T0, category=category, grid_code="G", staff_id=staff,
        acknowledged_at=T0 + timedelta(minutes=acked_after) if acked_after is not None else None,
        resolved_at=T0 + timedelta(hours=5) if resolved else None, closed_at=None,
        ack_due_at=T0 + timedelta(minutes=60), resolve_due_at=T0 + timedelta(hours=4), rating=rating,
        confirmed=confirmed, reopened=reopened, resolved_level="base" if resolved else None,
    )  # fmt: skip


def test_the_three_rates_and_their_coverage_are_counted_by_hand() -> None:
    facts = [
        fact(1, "noise", staff=1, confirmed=True, rating=5),
        fact(2, "noise", staff=1, confirmed=True, rating=2),
        fact(3, "noise", staff=1, reopened=True, acked_after=90),  # acknowledged late
        fact(4, "noise", staff=1),  # resolved, the resident never answered
        fact(5, "noise", staff=1, acked_after=None, resolved=False),  # never acknowledged, open
    ]
    s = summarise(facts, T0 + timedelta(days=1))
    assert (s.ack_in_time, s.with_ack_limit) == (3, 5) and s.response_rate == 0.6
    assert s.confirmed == 2 and s.solve_rate == 2 / 5  # the holder said "resolved" four times
    assert s.answered == 3 and s.solve_coverage == 3 / 4
    assert s.satisfied_share == 1 / 2 and s.satisfaction_coverage == 2 / 4
    assert s.overdue == 5  # resolved after 4 h, or not at all
    assert s.resolved_at_level("base") == 4 and s.resolved_at_level("level2") == 0


def test_a_leader_carrying_hard_categories_is_compared_with_what_that_mix_would_give() -> None:
    facts = [
        # property disputes are rarely confirmed solved anywhere; water almost always is
        fact(1, "property_management", staff=7), fact(2, "property_management", staff=7),
        fact(3, "property_management", staff=8, confirmed=True), fact(4, "property_management", staff=8),
        fact(5, "water_supply", staff=8, confirmed=True), fact(6, "water_supply", staff=8, confirmed=True),
    ]  # fmt: skip
    expected = expected_solve_rates(facts, lambda f: f.staff_id)
    assert expected["7"] == 0.25  # two disputes at the disputes' rate of 1/4
    assert expected["8"] == (0.25 + 0.25 + 1 + 1) / 4


async def test_the_dashboard_and_its_csv_show_the_three_rates(client_for, factory: CaseFactory, console_services):
    now = factory.now
    solved = factory.case(staff="LDR-GX01-01-1", ack_after=timedelta(minutes=5), resolve_after=timedelta(hours=1),
                          rating=5, status="closed")  # fmt: skip
    factory.case(staff="LDR-GX01-01-1", ack_after=timedelta(minutes=5), resolve_after=timedelta(hours=1))
    with console_services.db.session() as session:
        session.add(CaseEvent(case_id=solved.id or 0, at=now, kind="resident_confirmed", actor="resident:1", data={}))
    admin = await client_for("admin")
    page = (await admin.get("/console/dashboard", params={"days": "7"})).text
    assert "响应率" in page and "解决率（居民确认）" in page and "满意率（4–5分）" in page
    assert "按类别" in page and "基础网格 2" in page
    csv = (await admin.get("/console/dashboard.csv", params={"days": "7"})).content.decode("utf-8-sig")
    solve_rows = [line for line in csv.splitlines() if "解决率（%，居民确认）" in line]
    assert any(line.split(",")[-2] == "50.0" for line in solve_rows)  # 1 of 2 confirmed

"""Dashboard figures: their arithmetic, the comparison with the previous period, and that every figure
leads to exactly the cases behind it."""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
from datetime import UTC, date, datetime, timedelta

from gridline.console.metrics import CaseFact, Period, percentile, summarise
from tests.conftest import SHANGHAI
from tests.console.factories import CaseFactory, populate_city


def listed_total(html: str) -> int:
    found = re.search(r"共 (\d+) 条", html)
    assert found, "no total on the list page"
    return int(found.group(1))


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_percentiles_use_the_nearest_rank():
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 90) == 9.0
    assert percentile(values, 50) == 5.0
    assert percentile([7.0], 90) == 7.0
    assert percentile([], 90) is None


def test_a_period_is_compared_with_the_same_number_of_days_before_it():
    period = Period(date(2026, 11, 20), date(2026, 11, 26))
    assert period.days == 7
    assert period.previous() == Period(date(2026, 11, 13), date(2026, 11, 19))


def test_summary_of_times_breaches_and_ratings():
    t0 = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    now = t0 + timedelta(hours=3)

    def fact(ack_min: float | None, rating: int | None = None) -> CaseFact:
        return CaseFact(id=1, created_at=t0, category="noise", grid_code="G", staff_id=1,
                        acknowledged_at=t0 + timedelta(minutes=ack_min) if ack_min is not None else None,
                        resolved_at=None, closed_at=None, ack_due_at=t0 + timedelta(minutes=60),
                        resolve_due_at=None, rating=rating)

    summary = summarise([fact(2, 5), fact(4, 4), fact(30, 1), fact(90), fact(None)], now)
    assert summary.cases == 5 and summary.acknowledged == 4
    assert summary.tta_median == 17 * 60  # between 4 and 30 minutes
    assert summary.tta_p90 == 90 * 60
    assert (summary.breached, summary.with_sla) == (2, 5)  # acked after 90 min, and never acked by now
    assert summary.rating_mean is not None and round(summary.rating_mean, 2) == 3.33
    assert summary.satisfied == 2


async def test_times_to_acknowledge_per_leader_in_the_export(client_for, factory: CaseFactory):
    for minutes in (2, 4, 30):
        factory.case(staff="LDR-GX01-01-1", ack_after=timedelta(minutes=minutes),
                     created=factory.now - timedelta(hours=2))
    admin = await client_for("admin")
    rows = csv_rows((await admin.get("/console/dashboard.csv")).content)
    leader = {r[3]: r[4] for r in rows if r[0] == "按负责人" and r[2] == "程振华"}
    assert leader["响应用时中位数（分钟）"] == "4.0"
    assert leader["响应用时 p90（分钟）"] == "30.0"
    assert leader["工单数"] == "3"


async def test_the_previous_period_is_shown_beside_the_current_one(client_for, factory: CaseFactory):
    factory.case(created=factory.now - timedelta(days=9))  # in the previous 7 days
    factory.case(created=factory.now - timedelta(days=8))
    factory.case(created=factory.now - timedelta(days=1))
    admin = await client_for("admin")
    rows = csv_rows((await admin.get("/console/dashboard.csv", params={"days": "7"})).content)
    today = factory.now.astimezone(SHANGHAI).date()
    week = timedelta(days=7)
    assert rows[0][4] == f"本期（{today - week + timedelta(days=1)}~{today}）"
    assert rows[0][5] == f"上期（{today - 2 * week + timedelta(days=1)}~{today - week}）"
    overall = next(r for r in rows if r[0] == "总体" and r[3] == "工单数")
    assert overall[4:] == ["1", "2"]


async def test_every_count_on_the_dashboard_leads_to_exactly_those_cases(client_for, factory: CaseFactory):
    populate_city(factory, days=10, per_day=4)
    admin = await client_for("admin")
    page = (await admin.get("/console/dashboard", params={"days": "14", "level": "3"})).text
    counts = re.findall(r'<a href="(/console/cases\?[^"]+)" class="fig">(\d+)</a>', page)
    assert len(counts) >= 10  # overall, each grid, each leader
    for url, shown in counts:
        listed = await admin.get(htmllib.unescape(url))
        assert listed_total(listed.text) == int(shown), url


async def test_the_breach_rate_leads_to_the_breached_cases(client_for, factory: CaseFactory):
    populate_city(factory, days=7, per_day=3)
    admin = await client_for("admin")
    page = (await admin.get("/console/dashboard", params={"days": "7"})).text
    breached, total = re.search(r"(\d+) 件中 (\d+) 件超时", page).groups()[::-1]  # type: ignore[union-attr]
    url = re.search(r'<a href="(/console/cases\?[^"]*sla=breached[^"]*)" class="fig">', page).group(1)  # type: ignore[union-attr]
    assert listed_total((await admin.get(htmllib.unescape(url))).text) == int(breached)
    assert int(breached) <= int(total)


async def test_the_chart_has_a_bar_segment_per_day_and_category_linking_to_its_cases(
    client_for, factory: CaseFactory
):
    populate_city(factory, days=5, per_day=4)
    admin = await client_for("admin")
    page = (await admin.get("/console/dashboard", params={"days": "7"})).text
    segments = re.findall(r'<a href="([^"]+)"><rect [^>]*data-category="([a-z_]+)" data-count="(\d+)"', page)
    overall = re.search(r'class="fig">(\d+)</a>', page).group(1)  # type: ignore[union-attr]
    assert sum(int(n) for _, _, n in segments) == int(overall)
    url, category, count = segments[0]
    listed = (await admin.get(htmllib.unescape(url))).text
    assert listed_total(listed) == int(count)
    assert f"category={category}" in htmllib.unescape(url)


async def test_cases_nobody_has_taken_yet_are_not_called_no_cases(client_for, factory: CaseFactory):
    """The per-leader table said 本期没有工单 above a count of six cases: none had a holder yet."""
    factory.case(created=factory.now - timedelta(hours=1))
    html = (await (await client_for("admin")).get("/console/dashboard")).text
    assert "本期的工单还没有人接单或被指派" in html
    empty = (await (await client_for("admin")).get("/console/dashboard", params={"from": "2020-01-01",
                                                                                "to": "2020-01-07"})).text
    assert "本期的工单还没有人接单或被指派" not in empty and "本期没有工单" in empty

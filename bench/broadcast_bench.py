"""A broadcast to 10,000 residents across 50 grids: time to queue it and to hand every message to
the notifiers, rows written, against a plain bulk insert of the same message rows as the baseline.

- **queue**: ``routing.broadcasts.confirm`` in one unit of work — recipients (residents of the grids
  with their identities), one rendered message each, one pacing reservation per sender lane, one job
  each, the status change and its audit entry.
- **baseline**: the same number of ``messages`` rows by one ``INSERT … VALUES`` batch (``storage.bulk``
  style) in one transaction — the floor for writing them at all.
- **hand over**: every delivery job run by the in-process queue on a fake clock that jumps to each
  send time (the pace is 1,000 a second here, so wall time is Gridline's own work, not waiting),
  each message claimed, handed to a recording notifier and recorded.

    .venv/bin/python bench/broadcast_bench.py [--residents 10000] [--grids 50]

SQLite in a temporary file (the embedded default). Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import machine
from sqlalchemy import func, insert, select

from gridline.clock import FakeClock
from gridline.composition import build_services
from gridline.kernel.notify import Delivery, MessageNotice, PageNotice, PageUpdate
from gridline.kernel.work import Work, in_transaction
from gridline.routing import broadcasts as flow
from gridline.settings import Settings
from gridline.storage.models import ChannelIdentity, Message, Resident

START = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


class CountingNotifier:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.sent = 0

    async def send_page(self, notice: PageNotice) -> Delivery:
        return Delivery("sent")

    async def send_message(self, notice: MessageNotice) -> Delivery:
        self.sent += 1
        return Delivery("sent", provider_message_id=f"{self.channel}-{notice.message_id}")

    async def update_page(self, update: PageUpdate) -> None:
        return None


def grid_codes(n: int) -> list[str]:
    return [f"BN{i // 10:02d}-{i % 10:02d}-1" for i in range(n)]


def populate(work: Work, residents: int, grids: list[str]) -> None:
    session = work.session
    session.execute(insert(Resident), [
        {"name": f"R{i}", "phone": f"+86171{i:08d}", "grid_code": grids[i % len(grids)], "lang": "zh-CN",
         "sms_opted_out": False, "created_at": work.now} for i in range(residents)
    ])  # fmt: skip
    ids = session.execute(select(Resident.id, Resident.phone).order_by(Resident.id)).all()
    session.execute(insert(ChannelIdentity), [
        {"channel": "telegram" if n % 3 == 0 else "sms", "external_id": str(7_000_000_000 + n) if n % 3 == 0 else phone,
         "bot_name": "", "resident_id": rid, "unreachable": False, "created_at": work.now}
        for n, (rid, phone) in enumerate(ids)
    ])  # fmt: skip


def draft(work: Work, grids: list[str]) -> int:
    d = flow.check_draft("停水通知", "管道维修停水，请提前储水。", tuple(grids), None, None)
    return flow.create_draft(work, d, "bench").id or 0


def baseline(work: Work, count: int) -> None:
    work.session.execute(insert(Message.__table__), [  # type: ignore[attr-defined]
        {"direction": "out", "channel": "sms", "sender_kind": "system", "text": "【通知】停水通知\n停水，请储水。",
         "options": [], "media": [], "lang": "zh-CN", "created_at": work.now, "status_seq": 0,
         "attempts": 0, "text_purged": False, "kind": "broadcast", "status": "sent"} for _ in range(count)
    ])  # fmt: skip


def count_rows(work: Work) -> int:
    return int(work.session.execute(select(func.count()).select_from(Message)).scalar() or 0)


async def run(residents: int, grid_count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        settings = Settings(database={"url": url}, twilio={"sms_number": "+8610690000001"},
                            pacing={"sms_per_second": 1000.0, "telegram_per_second": 1000.0})
        clock = FakeClock(START)
        services = build_services(settings, clock)
        services.db.create_all()
        notifiers = {c: CountingNotifier(c) for c in ("sms", "telegram")}
        for notifier in notifiers.values():
            services.notifiers.register(notifier)
        grids = grid_codes(grid_count)
        await in_transaction(services, populate, residents, grids)
        broadcast_id = await in_transaction(services, draft, grids)

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        await in_transaction(services, flow.confirm, broadcast_id, "bench", settings)
        queue_s = time.perf_counter() - t0
        rss_growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
        written = await in_transaction(services, count_rows)

        t0 = time.perf_counter()
        await in_transaction(services, baseline, written)
        baseline_s = time.perf_counter() - t0

        # Hand every message over: the clock jumps to each due time (the lanes' last time bounds it).
        t0 = time.perf_counter()
        last = START + timedelta(seconds=residents / 1000.0 + 1)
        while clock.now() < last:
            clock.advance(timedelta(milliseconds=200))
            await services.jobs.run_due(services.handlers)
        hand_s = time.perf_counter() - t0
        handed = sum(n.sent for n in notifiers.values())
        status = await in_transaction(services, lambda w: flow.counts(w, w.session.get(flow.Broadcast, broadcast_id)))
        await services.aclose()
    return {
        "residents": residents, "grids": grid_count, "messages_queued": written,
        "queue_seconds": round(queue_s, 3), "queue_peak_rss_growth_mb": round(rss_growth_kb / 1024, 1),
        "baseline_bulk_insert_seconds": round(baseline_s, 3), "queue_vs_baseline": round(queue_s / baseline_s, 1),
        "hand_over_seconds": round(hand_s, 2), "handed_to_notifiers": handed,
        "per_message_hand_over_ms": round(hand_s / max(handed, 1) * 1000, 2),
        "counts": {"sent": status.sent, "queued": status.queued, "failed": status.failed},
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--grids", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.residents, args.grids)), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

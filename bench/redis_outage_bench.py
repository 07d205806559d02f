"""What a Redis outage costs a resident's message: ``handle_inbound`` latency on PostgreSQL with
Redis answering and Redis refused (the server is down) — against PostgreSQL without Redis, measured
in the same run.

The breaker is what is measured: after the first failed call a dead Redis should cost nothing.

    .venv/bin/python bench/redis_outage_bench.py --messages 200
    GRIDLINE_BENCH_REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/redis_outage_bench.py

Prints one JSON document: per mode, p50/p99/max of the per-message latency and the slowest first
message (the one that finds Redis gone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_support import REDIS_URL, base_settings, demo_databases, machine, percentiles

MODES = {
    "postgres (no Redis, baseline)": "",
    "postgres + Redis answering": REDIS_URL,
    "postgres + Redis refused": "redis://127.0.0.1:1/0",
}
TEXTS = ["楼道灯坏了三天了", "小区门口的路灯不亮了", "家里停水了", "楼上漏水到我家了", "你好"]


async def run_mode(database_url: str, redis_url: str, messages: int) -> dict[str, Any]:
    from gridline.clock import SystemClock
    from gridline.composition import build_services
    from gridline.core.conversation import handle_inbound
    from gridline.kernel.messages import InboundMessage

    settings = base_settings(database_url, redis_url, redis={"url": redis_url, "namespace": f"b{uuid.uuid4().hex[:8]}"})
    services = build_services(settings, SystemClock())
    latencies: list[float] = []
    try:
        for i in range(messages):
            msg = InboundMessage(channel="sms", external_id=f"+86139{i:08d}", text=TEXTS[i % len(TEXTS)])
            started = time.perf_counter()
            await handle_inbound(services, msg, deliver_replies=False)
            latencies.append(time.perf_counter() - started)
        breaker = services.redis.status() if services.redis is not None else None
    finally:
        await services.aclose()
    return {"first_message_ms": round(latencies[0] * 1000, 2), "rest": percentiles(latencies[1:]),
            "redis_breaker_at_end": breaker}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    results: dict[str, Any] = {}
    with demo_databases() as databases:
        for mode, redis_url in MODES.items():
            results[mode] = await run_mode(databases.new("postgres"), redis_url, args.messages)
    print(json.dumps({"benchmark": "redis_outage", "messages_per_mode": args.messages, "machine": machine(),
                      "results": results}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    asyncio.run(main())

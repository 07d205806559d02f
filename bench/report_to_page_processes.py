"""Report → first page with Gridline deployed as processes: one ``gridline serve`` and, where the
mode has one, one ``gridline worker`` (``report_to_page_bench.py --topology processes``).

Residents of the demo city text held-out sentences to the signed Twilio SMS webhook of ``serve``
(an open-loop client: each report is sent at its scheduled time whether or not earlier ones were
answered). Both processes run through ``instrumented.py``: a timing notifier in place of every
channel's notifier notes when the first page of each case is handed to it, a 10-ms ticker measures
the event-loop lag, and SQL statements are counted. A report's figure is the time from its
scheduled send to the first page of its case; the case is found afterwards through the stored
message (``messages.provider_message_id`` = the report's MessageSid).

Baseline, same run, same client and schedule: the bare FastAPI endpoint (``bare_app.py``) answering
the same POSTs — the floor that HTTP on this machine puts under any figure.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench_support import percentiles
from processes import BENCH, PYTHON, RTP_BARE_PORT, RTP_SERVE_PORT, TWILIO_TOKEN, Run, wait_http, worker_stays_up

SMS_PATH = "/webhooks/twilio/sms"


def residents_of(database_url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        phones = [row[0] for row in conn.execute(text("SELECT phone FROM residents WHERE phone IS NOT NULL"))]
    engine.dispose()
    return phones


def case_of_reports(database_url: str, prefix: str) -> dict[str, str | None]:
    """MessageSid → the ref of the case its message joined (None: no case, e.g. a question)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT m.provider_message_id, c.ref FROM messages m LEFT JOIN cases c ON c.id = m.case_id "
            "WHERE m.provider_message_id LIKE :p"), {"p": prefix + "%"}).all()
        events = {row[0]: row[1] for row in conn.execute(text(
            "SELECT status, count(*) FROM inbound_events GROUP BY status"))}
    engine.dispose()
    out = {sid: ref for sid, ref in rows}
    out["__events__"] = json.dumps(events)  # type: ignore[assignment]
    return out


def read_samples(path: Path) -> dict[str, Any]:
    """What an instrumented process measured: lag samples, first pages, statement counts over time."""
    lag: list[tuple[float, float]] = []
    pages: dict[str, float] = {}
    counts: list[tuple[float, int, int, int, float]] = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            lag.extend((t, v) for t, v in record["lag"])
            pages.update(record["first_pages"])
            counts.append((record["t"], record["statements"], record["async_statements"], record["pages_handed"],
                           record.get("cpu_s", 0.0)))
    return {"lag": lag, "pages": pages, "counts": counts}


def count_at(counts: list[tuple[float, int, int, int, float]], t: float, index: int) -> float:
    """A cumulative counter's value at wall time ``t`` (the last sample before it)."""
    value: float = 0
    for sample in counts:
        if sample[0] <= t:
            value = sample[index]
    return value


async def send_reports(url: str, rate: float, seconds: float, senders: list[str], texts: list[str],
                       prefix: str, *, sign: bool = True) -> dict[str, Any]:
    """Open loop: POST the signed SMS webhooks on schedule; returns scheduled times and statuses."""
    import aiohttp
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TWILIO_TOKEN)
    count = int(rate * seconds)
    scheduled: dict[str, float] = {}
    answered: list[float] = []
    statuses: dict[str, int] = {}
    rng = random.Random(7)
    order = list(range(len(senders)))
    rng.shuffle(order)

    async def one(session: aiohttp.ClientSession, i: int, at: float) -> None:
        sid = f"{prefix}{i:08d}"
        fields = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "b" * 32,
                  "From": senders[order[i % len(order)]], "To": "+8610000000001",
                  "Body": texts[i % len(texts)], "NumMedia": "0"}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if sign:
            headers["X-Twilio-Signature"] = validator.compute_signature(url, fields)
        try:
            async with session.post(url, data=urlencode(fields), headers=headers) as response:
                await response.read()
                key = str(response.status)
        except Exception as exc:  # counted: the figure says how many were not answered
            key = type(exc).__name__
        statuses[key] = statuses.get(key, 0) + 1
        answered.append(time.time() - at)

    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = []
        start = time.time() + 0.2
        for i in range(count):
            at = start + i / rate
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            scheduled[f"{prefix}{i:08d}"] = at
            tasks.append(asyncio.create_task(one(session, i, at)))
        sent_in = time.time() - start
        await asyncio.gather(*tasks)
    return {"scheduled": scheduled, "statuses": statuses, "answered": percentiles(answered),
            "achieved_rate_per_s": round(count / sent_in, 1) if sent_in else None, "start": start,
            "end": start + sent_in}


def lag_in(samples: list[tuple[float, float]], start: float, end: float) -> dict[str, Any]:
    values = [v / 1000 for t, v in samples if start <= t <= end]
    return percentiles(values)


async def bare_baseline(r: Run, rate: float, seconds: float, senders: list[str], texts: list[str]) -> dict[str, Any]:
    """The same client and schedule against the bare SMS endpoint (parses the form, stores nothing)."""
    bare = r.start("bare-rtp", [PYTHON, str(BENCH / "bare_app.py"), "--port", str(RTP_BARE_PORT)])
    try:
        wait_http(f"http://127.0.0.1:{RTP_BARE_PORT}/healthz", bare)
        sent = await send_reports(f"http://127.0.0.1:{RTP_BARE_PORT}{SMS_PATH}", rate, seconds, senders, texts,
                                  "SMbare", sign=False)
    finally:
        r.stop(bare)
    return {k: sent[k] for k in ("answered", "statuses", "achieved_rate_per_s")}


async def measure(r: Run, mode: str, template: str, rate: float, seconds: float, texts: list[str],
                  overrides: dict[str, Any], *, wait_for_pages: float = 60.0, baseline: bool = True) -> dict[str, Any]:
    database_url = r.database(mode, template=template)
    senders = residents_of(database_url)
    config = r.config(mode, database_url, port=RTP_SERVE_PORT, **overrides)
    serve_samples, worker_samples = r.dir / f"serve-{time.time():.0f}.jsonl", r.dir / f"worker-{time.time():.0f}.jsonl"
    serve = r.gridline("serve", ["serve", "--port", str(RTP_SERVE_PORT)], config, instrument=serve_samples,
                       pages=True)
    try:
        wait_http(f"http://127.0.0.1:{RTP_SERVE_PORT}/healthz", serve)
    except Exception as exc:
        r.stop(serve)
        raise RuntimeError(f"gridline serve did not start: {exc}\n{r.log_tail('serve')}") from exc
    worker = r.gridline("worker", ["worker"], config, instrument=worker_samples, pages=True)
    has_worker = worker_stays_up(worker)
    url = f"http://127.0.0.1:{RTP_SERVE_PORT}{SMS_PATH}"
    # Warm-up: a few reports to load the NLU model, the grid index and the connection pools.
    await send_reports(url, 5, 2, senders, texts, "SMwarm")
    await asyncio.sleep(3)
    sent = await send_reports(url, rate, seconds, senders, texts, "SMbench")
    # Wait (bounded) for the pages of every case.
    deadline = time.time() + wait_for_pages
    refs: dict[str, str | None] = {}
    while True:
        await asyncio.sleep(1.0)
        refs = case_of_reports(database_url, "SMbench")
        pages = {**read_samples(serve_samples)["pages"], **read_samples(worker_samples)["pages"]}
        wanted = {ref for sid, ref in refs.items() if ref and sid != "__events__"}
        stored = sum(1 for sid in refs if sid != "__events__")
        if (stored >= len(sent["scheduled"]) and wanted <= pages.keys()) or time.time() > deadline:
            break
    finished = time.time()
    await asyncio.sleep(0.6)  # one more flush of the samples
    events = json.loads(str(refs.pop("__events__", "{}")))
    stops = {"serve": r.stop(serve)}
    if has_worker:
        stops["worker"] = r.stop(worker)
    s, w = read_samples(serve_samples), read_samples(worker_samples)
    first_page: dict[str, float] = {}
    for ref, at in [*s["pages"].items(), *w["pages"].items()]:
        first_page[ref] = min(at, first_page.get(ref, at))
    first_report: dict[str, str] = {}
    for sid in sorted(refs):
        ref = refs[sid]
        if ref:
            first_report.setdefault(ref, sid)
    to_page = [first_page[ref] - sent["scheduled"][sid] for ref, sid in first_report.items() if ref in first_page]
    # A case still unpaged when the wait ended counts with the time it had waited by then (a lower
    # bound), so an overloaded run cannot look fast by leaving its slowest cases out.
    unpaged = [finished - sent["scheduled"][sid] for ref, sid in first_report.items() if ref not in first_page]
    handed = sorted(first_page[ref] - sent["start"] for ref in first_report if ref in first_page)
    statements = sum(count_at(x["counts"], finished, 1) - count_at(x["counts"], sent["start"], 1) for x in (s, w))
    async_statements = sum(count_at(x["counts"], finished, 2) - count_at(x["counts"], sent["start"], 2)
                           for x in (s, w))
    reports = len(sent["scheduled"])
    # CPU per report, from the start of sending until the last page (or the end of the wait): the
    # figure that says how far a process is from saturating its core, whatever the machine's load.
    cpu_ms = {name: round((count_at(x["counts"], finished, 4) - count_at(x["counts"], sent["start"], 4))
                          * 1000 / reports, 2)
              for name, x in (("serve", s), ("worker", w)) if x["counts"] and reports}
    result: dict[str, Any] = {
        "processes": ("gridline serve + gridline worker" + (" (serve takes jobs too)"
                                                            if overrides.get("jobs", {}).get("run_in_serve") else "")
                      if has_worker else "gridline serve (runs the jobs)"),
        "reports": reports,
        "achieved_rate_per_s": sent["achieved_rate_per_s"],
        "webhook_answers": sent["statuses"],
        "webhook_answered": sent["answered"],
        "reports_stored_as_messages": len(refs),
        "inbound_events": events,
        "cases_opened": len(first_report),
        "cases_never_paged": len(set(first_report) - first_page.keys()),
        "report_to_first_page": percentiles(to_page + unpaged),
        "unpaged_counted_as_lower_bounds": len(unpaged),
        "timeline_s": {"first_page": round(handed[0], 2) if handed else None,
                       "last_page": round(handed[-1], 2) if handed else None,
                       "sending_ended": round(sent["end"] - sent["start"], 2)},
        "event_loop_lag_during_load": {"serve": lag_in(s["lag"], sent["start"], sent["end"]),
                                       **({"worker": lag_in(w["lag"], sent["start"], sent["end"])}
                                          if has_worker else {})},
        "sql_statements_per_report": round(statements / reports, 1) if reports else None,
        "job_queue_statements_per_report_psycopg_async": round(async_statements / reports, 1) if reports else None,
        "cpu_ms_per_report": cpu_ms,
        "stop": stops,
    }
    if baseline:  # the same rate, at most 15 s of it: the bare endpoint's figure does not drift
        result["baseline_bare_endpoint_same_rate"] = await bare_baseline(r, rate, min(seconds, 15), senders, texts)
    return result


async def highest_rate(r: Run, mode: str, template: str, rates: list[float], seconds: float, texts: list[str],
                       overrides: dict[str, Any]) -> dict[str, Any]:
    """Ascending rates, ``seconds`` each, until p99 report → first page reaches 1 s."""
    tried: list[dict[str, Any]] = []
    best: float | None = None
    for rate in rates:
        result = await measure(r, mode, template, rate, seconds, texts, overrides, wait_for_pages=30, baseline=False)
        p99 = result["report_to_first_page"]["p99_ms"]  # unpaged cases count as at least their wait
        ok = p99 is not None and p99 < 1000 and result["cases_never_paged"] == 0
        tried.append({"rate_per_s": rate, "p50_ms": result["report_to_first_page"]["p50_ms"], "p99_ms": p99,
                      "cases_never_paged": result["cases_never_paged"], "p99_below_1s": ok,
                      **{f"{name}_lag_p99_ms": lag["p99_ms"]
                         for name, lag in result["event_loop_lag_during_load"].items()},
                      "cpu_ms_per_report": result["cpu_ms_per_report"],
                      "sql_statements_per_report": result["sql_statements_per_report"]})
        if not ok:
            break
        best = rate
    return {"highest_rate_with_p99_below_1s": best, "seconds_per_rate": seconds, "tried": tried}

"""Webhook ingest: the Telegram webhook (secret checked, update stored, 200) against a bare FastAPI
endpoint that parses the same JSON, on the same uvicorn settings, in the same run.

For each mode (``embedded`` = SQLite; ``postgres``; ``postgres+redis``):

1. **ingest** — wrk (``bench/telegram_update.lua``, ``-t C -c C``: one connection per thread)
   POSTs Telegram message updates, each with its own ``update_id``, for ``--seconds``: first to
   the bare endpoint (``bench/bare_app.py``), then to ``gridline serve`` on a fresh database, then
   again to both (the figures are the sums of the two rounds, so drift in the machine's load hits
   both sides alike). Afterwards every ``update_id`` answered 200 is looked up in
   ``inbound_events``: the figure counts only if all of them were stored.
2. **ingest during a backlog** — ``--backlog`` updates (from 200 senders) are stored before
   ``gridline serve`` starts, and are being processed (by the web process in embedded mode, which is how embedded
   runs, or by one ``gridline worker`` process where the mode has one) while wrk posts new ones.
   Reports ingest rate and how many stored updates were processed per second meanwhile.

``gridline serve`` runs as it does in production, with its own process; the processing of the
updates it stores replies through a fast fake Bot API (``bench/fake_providers.py``). In embedded
mode that processing runs in the web process, so scenario 1 there includes it (held back to a few
messages a second while a flood of webhooks waits to be stored: ``storage.jobs.IngestGauge``, so the
backlog scenario's "processed per second" shows that price); on PostgreSQL it
runs in workers, and no worker runs in scenario 1. wrk's updates come from 16 senders (one per
connection), so after 20 in a minute each sender is rate-limited: its updates are stored and not
answered — the cheap path, as in a retry storm. ``gridline serve`` runs through ``instrumented.py``,
which adds its event-loop lag and SQL statements per stored update to the figures.

    .venv/bin/python bench/ingest_bench.py [--seconds 10] [--connections 16] [--modes embedded,postgres]
                                           [--channels telegram,sms]

``--channels sms`` measures the signed Twilio SMS webhook the same way (``bench/twilio_sms.lua``; the
signatures are computed beforehand, a file per wrk thread; every 200 is looked up by its MessageSid)
against the bare SMS endpoint of ``bench/bare_app.py`` (form parsed, no signature, nothing stored);
its figures are under ``modes["<mode>/sms"]``.

Needs ``wrk`` (Debian: ``apt-get install -y wrk``), PostgreSQL on 127.0.0.1:5432 and, for
``postgres+redis``, Redis (database 12, flushed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import machine
from processes import (
    BARE_PORT,
    BENCH,
    BOT,
    FAKE_PORT,
    MODES,
    PYTHON,
    SECRET,
    SERVE_PORT,
    Run,
    wait_http,
    worker_stays_up,
)

WEBHOOK = f"/webhooks/telegram/{BOT}"
SMS_WEBHOOK = "/webhooks/twilio/sms"
SMS_ROWS_PER_SECOND_PER_THREAD = 400  # 6,400 texts/s at 16 connections before a thread starts again
_sms_base = 0


def sms_files(directory: Path, connections: int, seconds: float) -> str:
    """Signed SMS webhook bodies for one wrk run, a file per thread (see bench/twilio_sms.lua): each
    with its own MessageSid (``SM`` + 32 digits of a number never used before in this run)."""
    from urllib.parse import urlencode

    from processes import TWILIO_SID, TWILIO_TOKEN
    from twilio.request_validator import RequestValidator

    global _sms_base
    validator = RequestValidator(TWILIO_TOKEN)
    url = f"http://127.0.0.1:{SERVE_PORT}{SMS_WEBHOOK}"  # the public URL Twilio signs (serve's base URL)
    prefix = str(directory / f"sms-{_sms_base}")
    for thread in range(connections):
        with open(f"{prefix}-{thread}", "w", encoding="utf-8") as f:
            for _ in range(int(SMS_ROWS_PER_SECOND_PER_THREAD * seconds) + 100):
                _sms_base += 1
                sid = f"SM{_sms_base:032d}"
                fields = {"MessageSid": sid, "SmsSid": sid, "AccountSid": TWILIO_SID, "From": f"+861390000{thread:04d}",
                          "To": "+8610000000001", "Body": "楼道灯坏了", "NumMedia": "0"}
                f.write(f"{_sms_base}\t{validator.compute_signature(url, fields)}\t{urlencode(fields)}\n")
    return prefix


def wrk(url: str, seconds: float, connections: int, out: Path, base: int, channel: str = "telegram") -> dict[str, Any]:
    """One wrk run; returns its figures and the update_ids (SMS: MessageSid numbers) answered 200."""
    env = {"BENCH_OUT": str(out), "BENCH_BASE": str(base), "BENCH_SECRET": SECRET, "PATH": "/usr/bin:/bin"}
    script = "telegram_update.lua"
    if channel == "sms":
        script = "twilio_sms.lua"
        env["BENCH_SMS_FILES"] = sms_files(out.parent, connections, seconds)
    started = time.perf_counter()
    proc = subprocess.run(
        ["wrk", f"-t{connections}", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "--timeout", "5s",
         "-s", str(BENCH / script), url],
        capture_output=True, text=True, env=env, timeout=seconds + 60, check=False,
    )
    text = proc.stdout
    ok_ids: list[int] = []
    statuses: dict[str, int] = {}
    if out.exists():
        for line in out.read_text().splitlines():
            if line.startswith("status"):
                statuses[line.split()[1]] = statuses.get(line.split()[1], 0) + 1
            elif line:
                ok_ids.append(int(line))
        out.unlink()
    for thread in range(connections if channel == "sms" else 0):
        Path(f"{env['BENCH_SMS_FILES']}-{thread}").unlink(missing_ok=True)

    def grab(pattern: str) -> str | None:
        m = re.search(pattern, text)
        return m.group(1) if m else None

    errors = grab(r"Socket errors: (.*)")
    requests = grab(r"(\d+) requests in")
    return {
        "requests_per_s": float(grab(r"Requests/sec:\s+([\d.]+)") or 0),
        "requests": int(requests) if requests else 0,
        "answered_200": len(ok_ids),
        "other_statuses": statuses,
        "socket_errors": errors.strip() if errors else None,
        "latency": {q: grab(rf"\s{q}%\s+(\S+)") for q in ("50", "99")},
        "wall_s": round(time.perf_counter() - started, 1),
        "_ok_ids": ok_ids,
        "_raw": text if proc.returncode else "",
    }


def stored_keys(database_url: str, channel: str = "telegram") -> set[str]:
    """The stored events' keys: update_ids, or for SMS the numbers of the MessageSids."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    provider = "twilio:sms" if channel == "sms" else f"telegram:{BOT}"
    with engine.connect() as conn:
        keys = {row[0] for row in conn.execute(text("SELECT event_key FROM inbound_events WHERE provider = :p"),
                                                {"p": provider})}
    engine.dispose()
    return {str(int(k[2:])) for k in keys} if channel == "sms" else keys


def status_counts(database_url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        counts = {row[0]: row[1] for row in conn.execute(
            text("SELECT status, count(*) FROM inbound_events GROUP BY status"))}
    engine.dispose()
    return counts


def store_backlog(database_url: str, count: int) -> None:
    """``count`` message updates already stored, as the webhook stores them, a minute old (so the
    reconciler queues them at once)."""
    from gridline.storage.db import Database
    from gridline.storage.migrate import upgrade
    from gridline.storage.models import InboundEvent

    db = Database(database_url)
    upgrade(db)
    when = datetime.now(UTC) - timedelta(seconds=60)
    with db.session() as session:
        for i in range(count):
            uid = 900_000_000 + i
            session.add(InboundEvent(provider=f"telegram:{BOT}", event_key=str(uid), received_at=when, payload={
                "update_id": uid,
                "message": {"message_id": i + 1, "date": int(when.timestamp()),
                            "chat": {"id": 800_000 + i % 200, "type": "private", "first_name": "Backlog"},
                            "from": {"id": 800_000 + i % 200, "is_bot": False, "first_name": "Backlog"},
                            "text": "楼道灯坏了"}}))
    db.dispose()


def serve_figures(samples: Path, start: float, end: float) -> dict[str, Any]:
    """The web process' event-loop lag and SQL statements per 200 during the wrk run."""
    from report_to_page_processes import count_at, lag_in, read_samples

    measured = read_samples(samples)
    statements = count_at(measured["counts"], end, 1) - count_at(measured["counts"], start, 1)
    return {"serve_event_loop_lag": lag_in(measured["lag"], start, end), "_statements": statements}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (``/proc/<pid>/stat``): unlike requests per
    second, the CPU a request costs is barely inflated by the other work on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def public(result: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in result.items() if not k.startswith("_")}
    if "_statements" in result and result["answered_200"]:
        # Everything the web process sent in the window (its processing too, in embedded mode).
        out["sql_statements_per_200"] = round(result["_statements"] / result["answered_200"], 2)
    if "_cpu_s" in result and result["answered_200"]:
        # The web process' CPU in the window per 200 (its processing too, in embedded mode).
        out["serve_cpu_ms_per_200"] = round(1000 * result["_cpu_s"] / result["answered_200"], 3)
    return out


def start_serve(r: Run, mode: str, database_url: str, samples: Path) -> Any:
    config = r.config(mode, database_url, port=SERVE_PORT)
    proc = r.gridline("serve", ["serve", "--port", str(SERVE_PORT)], config, instrument=samples)
    try:
        wait_http(f"http://127.0.0.1:{SERVE_PORT}/healthz", proc)
    except Exception as exc:
        r.stop(proc)
        raise RuntimeError(f"gridline serve did not start: {exc}\n{r.log_tail('serve')}") from exc
    return proc, config


def measure_mode(r: Run, mode: str, seconds: float, connections: int, backlog: int,
                 channel: str = "telegram") -> dict[str, Any]:
    path = SMS_WEBHOOK if channel == "sms" else WEBHOOK
    bare_url = f"http://127.0.0.1:{BARE_PORT}{path}"
    hook_url = f"http://127.0.0.1:{SERVE_PORT}{path}"
    bare = r.start("bare", [PYTHON, str(BENCH / "bare_app.py"), "--port", str(BARE_PORT)])
    wait_http(f"http://127.0.0.1:{BARE_PORT}/healthz", bare)
    out = r.dir / "ids.txt"
    rounds: list[dict[str, Any]] = []
    for _ in range(2):
        wrk(bare_url, 2, connections, out, 0, channel)  # warm-up, not counted
        bare_run = wrk(bare_url, seconds, connections, out, 0, channel)
        database_url = r.database(mode)
        samples = r.dir / f"serve-{len(rounds)}.jsonl"
        serve, _ = start_serve(r, mode, database_url, samples)
        warm = wrk(hook_url, 2, connections, out, 1_000_000_000, channel)  # warm-up (stored, not counted)
        window, cpu = time.time(), cpu_seconds(serve.pid)
        hook_run = wrk(hook_url, seconds, connections, out, 0, channel)
        window_end, hook_run["_cpu_s"] = time.time(), cpu_seconds(serve.pid) - cpu
        time.sleep(0.6)  # one more flush of the samples
        r.stop(serve)
        hook_run.update(serve_figures(samples, window, window_end))
        keys = stored_keys(database_url, channel)
        missing = [i for i in hook_run["_ok_ids"] if str(i) not in keys]
        not_counted = {str(i) for i in warm["_ok_ids"]} if channel == "sms" else set()
        rounds.append({
            "bare": public(bare_run),
            "webhook": {**public(hook_run), "rows_stored": sum(1 for k in keys if int(k) < 1_000_000_000
                                                               and k not in not_counted),
                        "answered_200_but_not_stored": len(missing), "status_after": status_counts(database_url)},
        })
    r.stop(bare)
    bare_total = sum(x["bare"]["requests_per_s"] for x in rounds)
    hook_total = sum(x["webhook"]["requests_per_s"] for x in rounds)
    result: dict[str, Any] = {
        "ingest": {
            "bare_requests_per_s": round(bare_total / len(rounds), 1),
            "webhook_requests_per_s": round(hook_total / len(rounds), 1),
            "ratio_to_bare": round(hook_total / bare_total, 3) if bare_total else None,
            "every_200_stored": all(x["webhook"]["answered_200_but_not_stored"] == 0 for x in rounds),
            "rounds": rounds,
        },
    }

    # Ingest while a backlog is being processed.
    database_url = r.database(mode)
    store_backlog(database_url, backlog)
    samples = r.dir / "serve-backlog.jsonl"
    serve, config = start_serve(r, mode, database_url, samples)
    worker = r.gridline("worker", ["worker"], config)
    has_worker = worker_stays_up(worker, 8)
    before = status_counts(database_url)
    t0 = time.perf_counter()
    window = time.time()
    hook_run = wrk(hook_url, seconds, connections, out, 0, channel)
    window_end = time.time()
    elapsed = time.perf_counter() - t0
    after = status_counts(database_url)
    time.sleep(0.6)
    r.stop(serve)
    hook_run.update(serve_figures(samples, window, window_end))
    stopped_worker = r.stop(worker) if has_worker else None
    keys = stored_keys(database_url, channel)
    missing = [i for i in hook_run["_ok_ids"] if str(i) not in keys]
    result["ingest_during_backlog"] = {
        "backlog": backlog,
        "processed_by": "gridline worker (1 process)" if has_worker else "gridline serve (in-process jobs)",
        "webhook": public(hook_run),
        "answered_200_but_not_stored": len(missing),
        "processed_during_window": after.get("processed", 0) - before.get("processed", 0),
        "processed_per_s": round((after.get("processed", 0) - before.get("processed", 0)) / elapsed, 1),
        "status_before": before, "status_after": after,
        "worker_stop": stopped_worker,
        "worker_log_tail": "" if has_worker else r.log_tail("worker", 3),
    }
    return result


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--backlog", type=int, default=5000)
    parser.add_argument("--modes", default="embedded,postgres")
    parser.add_argument("--channels", default="telegram", help="telegram, sms or both (telegram,sms)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("ingest_bench.py needs wrk: apt-get install -y wrk")
    out: dict[str, Any] = {
        "benchmark": "ingest",
        "what": "Telegram webhook (secret checked, update stored, 200) requests/s under wrk, every 200 checked "
                "against the stored rows",
        "baseline": "bare FastAPI endpoint parsing the same JSON (bench/bare_app.py), same uvicorn settings, "
                    "same run, alternating with the webhook",
        "load": {"tool": "wrk", "connections": args.connections, "threads": args.connections,
                 "seconds_per_run": args.seconds, "script": "bench/telegram_update.lua"},
        "machine": machine(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "modes": {},
    }
    with Run() as r:
        r.start("fake", [PYTHON, str(BENCH / "fake_providers.py"), "--port", str(FAKE_PORT)])
        time.sleep(1)
        for mode in args.modes.split(","):
            if mode not in MODES:
                sys.exit(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
            for channel in args.channels.split(","):
                if channel not in ("telegram", "sms"):
                    sys.exit(f"unknown channel {channel!r}; telegram or sms")
                key = mode if channel == "telegram" else f"{mode}/sms"
                started = time.perf_counter()
                try:
                    out["modes"][key] = measure_mode(r, mode, args.seconds, args.connections, args.backlog, channel)
                except Exception as exc:  # one broken mode must not hide the others' figures
                    out["modes"][key] = {"error": f"{type(exc).__name__}: {exc}"[:3000]}
                out["modes"][key]["wall_s"] = round(time.perf_counter() - started, 1)
    return out


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))

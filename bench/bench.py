"""Sync benchmark against the ALSO sandbox with generated data and injected latency.

    .venv/bin/python bench/bench.py                      # 1,000 x 10 and 10,000 x 10, 20 ms, with baseline
    .venv/bin/python bench/bench.py --sizes 1000x10 --no-baseline

For each size and mode it starts the sandbox in its own process, runs a full sync and a no-change
re-sync in a fresh process, and prints wall time, requests, rows written, peak RSS, time spent
applying plans, and the ratio of the sequential floor (requests x latency) to the measured time.
The baseline is the same sync with max_concurrency 1 and row-by-row ORM writes. It measures and
reports; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def control(url: str, command: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url + "/_sandbox/control", data=json.dumps(command).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def start_sandbox(companies: int, subs: int, latency_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "sandbox", "also", "--port", str(port), "--companies",
                             str(companies), "--subscriptions-per-company", str(subs), "--latency-ms", str(latency_ms)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            control(url, {})
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the sandbox did not start")


def naive_apply(session, vendor, changes, run_id):  # type: ignore[no-untyped-def]
    """The baseline: one ORM round trip per licence and per history row."""
    from core.db.clock import now
    from core.db.models import Licence, LicenceChange
    from core.db.store import as_text

    stamp = now()
    for cid, change in changes:
        if change.licence_id is None:
            licence = Licence(vendor=vendor, external_id=change.external_id, vendor_customer_id=cid,
                              updated_at=stamp, **change.values)
            session.add(licence)
            session.flush()
            session.add(LicenceChange(licence_id=licence.id, sync_run_id=run_id, field="created",
                                      new_value=as_text(change.values.get("quantity")), changed_at=stamp))
            session.flush()
            continue
        licence = session.get(Licence, change.licence_id)
        licence.vendor_customer_id = cid
        for name, (old, new) in change.changes.items():
            setattr(licence, name, new)
            session.add(LicenceChange(licence_id=licence.id, sync_run_id=run_id, field=name, old_value=as_text(old),
                                      new_value=as_text(new), changed_at=stamp))
            session.flush()
        licence.updated_at = stamp


def one(url: str, folder: str, concurrency: int, naive: bool, latency_ms: float) -> dict[str, Any]:
    """One full sync and one no-change re-sync, in this (fresh) process."""
    import yaml
    from sqlalchemy import text

    from core.config.file import load_config
    from core.db import open_database, store
    from core.host.plugins import get_plugin_manager
    from core.sync import subscriptions
    from core.sync.app import App
    from core.sync.scheduler import sync_all

    config_path = Path(folder) / "integrator.yaml"
    config_path.write_text(yaml.safe_dump({"database": "sqlite:///bench.db", "integrations": {"also": {
        "url": url, "username": "api-user@acme-msp.example", "password": "sandbox-password",
        "set_price_and_cost": True, "max_concurrency": concurrency, "timeout_seconds": 60,
        "integrator": {"enabled": True}}}}))
    pm = get_plugin_manager()
    config = load_config(config_path, pm)
    sessions = open_database(config.database_url)
    app = App(config=config, pm=pm, sessions=sessions)

    def rows_written(since_change: int) -> tuple[int, int]:
        """Rows inserted into the PSA tables plus licences updated, from the tables themselves."""
        with sessions() as session:
            total = sum(session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                        for t in ("customers", "sites", "customer_mappings", "licences", "licence_changes"))
            updated = session.execute(text("SELECT count(DISTINCT licence_id) FROM licence_changes "
                                           "WHERE id > :n AND field != 'created'"), {"n": since_change}).scalar_one()
            last = session.execute(text("SELECT coalesce(max(id), 0) FROM licence_changes")).scalar_one()
        return total + updated, last

    applying = {"seconds": 0.0}
    apply = naive_apply if naive else store.apply_licence_changes

    def timed_apply(*args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return apply(*args, **kwargs)
        finally:
            applying["seconds"] += time.perf_counter() - started

    store.apply_licence_changes = timed_apply  # type: ignore[assignment]
    if naive:
        subscriptions.BATCH_CUSTOMERS = 1

    phases = {}
    for phase in ("full sync", "no-change re-sync"):
        before = control(url, {})["calls"]
        applying["seconds"] = 0.0
        rows_before, last_change = rows_written(0)
        started = time.perf_counter()
        reports = sync_all(app)
        wall = time.perf_counter() - started
        after = control(url, {})["calls"]
        rows_after, _ = rows_written(last_change)
        requests = sum(after.values()) - sum(before.values())
        floor = requests * latency_ms / 1000
        phases[phase] = {
            "status": [r.status for r in reports], "wall_s": round(wall, 2), "requests": requests,
            "rows_written": rows_after - rows_before, "apply_s": round(applying["seconds"], 2),
            "floor_s": round(floor, 2), "floor_ratio": round(floor / wall, 2),
            "licences_created": sum(r.created for r in reports if r.entity == "subscriptions"),
        }
    phases["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000x10,10000x10", help="companies x subscriptions, comma-separated")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-baseline", action="store_true", help="skip the max_concurrency 1, row-by-row run")
    parser.add_argument("--one", nargs=4, metavar=("URL", "FOLDER", "CONCURRENCY", "NAIVE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        url, folder, concurrency, naive = args.one
        print(json.dumps(one(url, folder, int(concurrency), naive == "1", args.latency_ms)))
        return

    modes = [("concurrent, set-based", args.concurrency, False)]
    if not args.no_baseline:
        modes.append(("baseline: sequential, row-by-row", 1, True))
    print(f"latency {args.latency_ms:g} ms per request; machine: {os.cpu_count()} cores")
    for size in args.sizes.split(","):
        companies, subs = (int(x) for x in size.lower().split("x"))
        for label, concurrency, naive in modes:
            proc, url = start_sandbox(companies, subs, args.latency_ms)
            try:
                with tempfile.TemporaryDirectory() as folder:
                    out = subprocess.run([sys.executable, __file__, "--latency-ms", str(args.latency_ms), "--one", url,
                                          folder, str(concurrency), "1" if naive else "0"],
                                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
            finally:
                proc.kill()
                proc.wait()
            result = json.loads(out.strip().splitlines()[-1])
            print(f"\n{companies:,} x {subs} ({label}, max_concurrency {concurrency}); peak RSS "
                  f"{result['peak_rss_mb']} MB")
            for phase in ("full sync", "no-change re-sync"):
                r = result[phase]
                print(f"  {phase:<18} wall {r['wall_s']:>7.2f} s  requests {r['requests']:>6}  rows written "
                      f"{r['rows_written']:>7}  applying {r['apply_s']:>6.2f} s  floor {r['floor_s']:>7.2f} s  "
                      f"floor/measured {r['floor_ratio']:>5.2f}  status {','.join(r['status'])}")


if __name__ == "__main__":
    main()

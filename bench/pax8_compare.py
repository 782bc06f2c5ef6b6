"""The integrator's Pax8 plugin side by side with a minimal client, against one Pax8 sandbox.

    .venv/bin/python bench/pax8_compare.py                  # 1,000 x 10 at 20 ms, 8 and 32 in flight

It starts ``integrator sandbox pax8`` in its own process (generated data, injected latency, its
rate limit off: the limit is not what is measured, and the plugin's ``requests_per_minute`` is
raised to match), runs a first full sync with the real CLI, then for each in-flight count runs
``bench/pax8_minimal.py`` (the same requests: token, connection check, company pages, one page of
subscriptions per company) and a no-change ``integrator run --once`` with ``max_concurrency`` set
to it. For each: wall time, requests served (the sandbox's own count), CPU per request (user +
system of the process, from wait4), peak RSS, and the machine's load beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import BIN, ROOT, free_port, load, measure, row  # noqa: E402  (bench/ is not a package)

CLIENT_ID, SECRET = "sandbox-client", "sandbox-secret"


def served(url: str) -> int:
    with urllib.request.urlopen(url + "/_control/stats", timeout=60) as response:
        return sum(json.loads(response.read())["calls"].values())


def start_sandbox(companies: int, subs: int, latency_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([str(BIN / "integrator"), "sandbox", "pax8", "--port", str(port), "--companies",
                             str(companies), "--subscriptions-per-company", str(subs), "--latency-ms",
                             str(latency_ms), "--rate-limit-per-minute", "0"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            served(url)
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the sandbox did not start")


def write_config(folder: Path, url: str, in_flight: int) -> Path:
    path = folder / "integrator.yaml"
    path.write_text(
        "database: sqlite:///bench.db\n"
        "integrations:\n  pax8:\n"
        f"    url: {url}\n    client_id: {CLIENT_ID}\n    client_secret: ${{BENCH_SECRET}}\n"
        "    top_level_for_new_customers: Pax8 Customers\n    set_price_and_cost: true\n"
        f"    max_concurrency: {in_flight}\n    requests_per_minute: 100000\n    timeout_seconds: 60\n"
        "    integrator: {enabled: true}\n")
    return path


def compare(companies: int, subs: int, latency_ms: float, in_flights: list[int]) -> None:
    proc, url = start_sandbox(companies, subs, latency_ms)
    env = {**os.environ, "BENCH_SECRET": SECRET}
    integrator = str(BIN / "integrator")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            print(f"\nPax8: {companies:,} companies x {subs} subscriptions, {latency_ms:g} ms per request")
            config = write_config(folder, url, in_flights[0])
            before = served(url)
            first = measure([integrator, "-c", str(config), "run", "--once"], env, folder)
            if first.code != 0:
                print(first.stderr[-2000:])
            print(row("integrator first full sync", first, served(url) - before))
            for in_flight in in_flights:
                before = served(url)
                minimal = measure([sys.executable, str(ROOT / "bench" / "pax8_minimal.py"), url, CLIENT_ID, SECRET,
                                   str(in_flight)], env, folder)
                print(row(f"minimal, {in_flight} in flight", minimal, served(url) - before))
                config = write_config(folder, url, in_flight)
                before = served(url)
                resync = measure([integrator, "-c", str(config), "run", "--once"], env, folder)
                if resync.code != 0:
                    print(resync.stderr[-2000:])
                print(row(f"integrator, {in_flight} in flight", resync, served(url) - before))
                print(f"  {'ratio integrator / minimal':<28} {resync.wall_s / minimal.wall_s:.2f} x wall")
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000x10", help="companies x subscriptions, comma-separated")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--in-flight", default="8,32", help="comma-separated")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; {load()}")
    for size in args.sizes.split(","):
        companies, subs = (int(x) for x in size.lower().split("x"))
        compare(companies, subs, args.latency_ms, [int(x) for x in args.in_flight.split(",")])


if __name__ == "__main__":
    main()

"""The integrator side by side with a minimal client, against one sandbox, in one run.

    .venv/bin/python bench/compare.py                          # 1,000 x 10 at 20 ms, 8 and 32 in flight
    .venv/bin/python bench/compare.py --sizes 1000x10,10000x10,50000x10
    .venv/bin/python bench/compare.py --before /tmp/old   # also an older checkout, side by side

With ``--before DIR`` (a checkout of older code, e.g. ``git archive <commit> | tar -x -C DIR``), each
no-change re-sync is run twice, this code and DIR's (the same interpreter with ``PYTHONPATH=DIR``, its own
database), one after the other against the same sandbox, so the two are compared under the same load.

For each size it starts a fake ALSO in its own process (``bench/fake_also.py``: the sandbox's generated
data, every answer rendered once, asyncio with the latency on a timer; ``--server sandbox`` for the
real sandbox; ``--pin`` keeps the fake on one CPU and the measured clients on the others),
runs a first full sync with the real CLI (``integrator run --once`` in a subprocess), then for each
in-flight count runs ``bench/minimal.py`` and a no-change ``integrator run --once`` with
``max_concurrency`` set to it, and reports for each: wall time, requests, CPU per request (user +
system of the process, from wait4), peak RSS and RSS sampled through the run (flat or growing),
and the machine's load average beside it. Then start-up: CPU and wall of ``integrator --help``,
``status`` and ``history``. It measures and reports; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
USERNAME, PASSWORD = "api-user@acme-msp.example", "sandbox-password"


@dataclass
class Measured:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    rss_samples_mb: list[float] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    code: int = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def control(url: str, command: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(url + "/_sandbox/control", data=json.dumps(command or {}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def requests_served(url: str) -> int:
    return sum(control(url)["calls"].values())


def measure(argv: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Measured:
    """Run ``argv`` to its end: wall time, CPU (user + system) and peak RSS from wait4, RSS sampled."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd, preexec_fn=_pinned_client)
    samples: list[float] = []
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    samples.append(int(line.split()[1]) / 1024)
        except OSError:
            pass
        time.sleep(0.25)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    return Measured(wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime, peak_rss_mb=usage.ru_maxrss / 1024,
                    rss_samples_mb=samples, stdout=out.read().decode(errors="replace"),
                    stderr=err.read().decode(errors="replace"), code=proc.returncode)


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


PIN: dict[str, set[int]] = {}  # with --pin: "server" -> the fake's CPU, "client" -> the others


def _pinned_client() -> None:
    if "client" in PIN:
        os.sched_setaffinity(0, PIN["client"])


def start_sandbox(companies: int, subs: int, latency_ms: float,
                  server: str = "fake") -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    if server == "fake":
        pin = ["--pin", str(next(iter(PIN["server"])))] if "server" in PIN else []
        argv = [sys.executable, str(ROOT / "bench" / "fake_also.py"), "--port", str(port), *pin]
    else:
        argv = [str(BIN / "integrator"), "sandbox", "also", "--port", str(port)]
    proc = subprocess.Popen([*argv, "--companies", str(companies), "--subscriptions-per-company", str(subs),
                             "--latency-ms", str(latency_ms)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            control(url)
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the sandbox did not start")


def write_config(folder: Path, url: str, in_flight: int) -> Path:
    path = folder / "integrator.yaml"
    path.write_text(
        "database: sqlite:///bench.db\n"
        "integrations:\n  also:\n"
        f"    url: {url}\n    username: {USERNAME}\n    password: ${{BENCH_PASSWORD}}\n"
        "    top_level_for_new_customers: ALSO Customers\n    set_price_and_cost: true\n"
        f"    max_concurrency: {in_flight}\n    timeout_seconds: 60\n"
        "    integrator: {enabled: true}\n")
    return path


def rss_shape(samples: list[float]) -> str:
    if len(samples) < 4:
        return "-"
    q = len(samples) // 4
    return f"{samples[q]:.0f}/{samples[2 * q]:.0f}/{samples[3 * q]:.0f}/{samples[-1]:.0f}"


def row(label: str, m: Measured, requests: int) -> str:
    per = m.cpu_s / requests * 1000 if requests else 0.0
    return (f"  {label:<28} wall {m.wall_s:7.2f} s  requests {requests:>6}  CPU {m.cpu_s:6.2f} s "
            f"({per:4.2f} ms/request)  peak RSS {m.peak_rss_mb:6.1f} MB  RSS q1/q2/q3/end {rss_shape(m.rss_samples_mb)}"
            f"  [{load()}]")


def compare(companies: int, subs: int, latency_ms: float, in_flights: list[int], old: Path | None = None,
            server: str = "fake") -> None:
    proc, url = start_sandbox(companies, subs, latency_ms, server)
    env = {**os.environ, "BENCH_PASSWORD": PASSWORD}
    old_env = {**env, "PYTHONPATH": str(old)} if old else env
    integrator = str(BIN / "integrator")
    try:
        with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as old_tmp:
            folder, old_folder = Path(tmp), Path(old_tmp)
            print(f"\n{companies:,} companies x {subs} subscriptions, {latency_ms:g} ms per request")
            config = write_config(folder, url, in_flights[0])
            before = requests_served(url)
            first = measure([integrator, "-c", str(config), "run", "--once"], env, folder)
            if first.code != 0:
                print(first.stderr[-2000:])
            print(row("integrator first full sync", first, requests_served(url) - before))
            if old:
                old_config = write_config(old_folder, url, in_flights[0])
                before = requests_served(url)
                first = measure([integrator, "-c", str(old_config), "run", "--once"], old_env, old_folder)
                if first.code != 0:
                    print(first.stderr[-2000:])
                print(row("before: first full sync", first, requests_served(url) - before))
            for in_flight in in_flights:
                before = requests_served(url)
                minimal = measure([sys.executable, str(ROOT / "bench" / "minimal.py"), url, USERNAME, PASSWORD,
                                   str(in_flight)], env, folder)
                print(row(f"minimal, {in_flight} in flight", minimal, requests_served(url) - before))
                config = write_config(folder, url, in_flight)
                before = requests_served(url)
                resync = measure([integrator, "-c", str(config), "run", "--once"], env, folder)
                if resync.code != 0:
                    print(resync.stderr[-2000:])
                print(row(f"integrator, {in_flight} in flight", resync, requests_served(url) - before))
                print(f"  {'ratio integrator / minimal':<28} {resync.wall_s / minimal.wall_s:.2f} x wall")
                if old:
                    old_config = write_config(old_folder, url, in_flight)
                    before = requests_served(url)
                    then = measure([integrator, "-c", str(old_config), "run", "--once"], old_env, old_folder)
                    if then.code != 0:
                        print(then.stderr[-2000:])
                    print(row(f"before, {in_flight} in flight", then, requests_served(url) - before))
                    print(f"  {'ratio before / minimal':<28} {then.wall_s / minimal.wall_s:.2f} x wall; "
                          f"CPU now / before {resync.cpu_s / then.cpu_s:.2f}")
            if companies == min(SIZES_SEEN):
                startup(integrator, config, env, folder)
    finally:
        proc.kill()
        proc.wait()


SIZES_SEEN: list[int] = []


def startup(integrator: str, config: Path, env: dict[str, str], folder: Path) -> None:
    print("\nstart-up (best of 3)")
    for args in (["--help"], ["-c", str(config), "status"], ["-c", str(config), "history"]):
        best = min((measure([integrator, *args], env, folder) for _ in range(3)), key=lambda m: m.cpu_s)
        print(f"  integrator {' '.join(a for a in args if a != str(config) and a != '-c'):<10} "
              f"wall {best.wall_s:5.2f} s  CPU {best.cpu_s:5.2f} s  [{load()}]")
    best = min((measure([sys.executable, "-c", "import asyncio, json, urllib.parse"], env, folder)
                for _ in range(3)), key=lambda m: m.cpu_s)
    print(f"  {'python + minimal imports':<21} wall {best.wall_s:5.2f} s  CPU {best.cpu_s:5.2f} s  [{load()}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000x10", help="companies x subscriptions, comma-separated")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--in-flight", default="8,32", help="comma-separated")
    parser.add_argument("--before", type=Path, help="a checkout of older code, measured side by side")
    parser.add_argument("--server", choices=("fake", "sandbox"), default="fake",
                        help="bench/fake_also.py (asyncio, answers rendered once) or `integrator sandbox`")
    parser.add_argument("--pin", action="store_true",
                        help="the fake on the last CPU, the measured clients on the others")
    args = parser.parse_args()
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > 1:
            PIN["server"], PIN["client"] = {cpus[-1]}, set(cpus[:-1])
    sizes = [tuple(int(x) for x in size.lower().split("x")) for size in args.sizes.split(",")]
    SIZES_SEEN.extend(c for c, _ in sizes)
    print(f"machine: {os.cpu_count()} cores; {load()}")
    for companies, subs in sizes:
        compare(companies, subs, args.latency_ms, [int(x) for x in args.in_flight.split(",")],
                args.before.resolve() if args.before else None, args.server)


if __name__ == "__main__":
    main()

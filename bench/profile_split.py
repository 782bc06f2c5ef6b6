"""Where a sync's CPU goes, from py-spy's raw (collapsed) stacks, split into the phases issue 26 names.

    py-spy record --gil -r 1000 -f raw -o stacks.txt -- .venv/bin/integrator -c CONFIG run --once
    .venv/bin/python bench/profile_split.py stacks.txt REQUESTS CPU_SECONDS

Each sample is the thread holding the GIL; it is put in the first phase whose pattern matches a frame,
looking from the innermost frame outwards (imports win over everything: they are start-up). The
milliseconds per request spread the process's measured CPU (user + system) over the phases by share.
"""

from __future__ import annotations

import sys
from collections import Counter

PHASES = [  # (phase, substrings of a frame), most specific first
    ("JSON", ("json/decoder", "json/__init__", "jsonstream", "json/encoder")),
    ("HTTP", ("urllib3/", "http/client", "socket.py", "ssl.py", "selectors", "email/", "core/vendor/transport",
              "core/vendor/rest", "core/vendor/pacing", "core/vendor/auth", "plugins/also/client")),
    ("mapping", ("plugins/also/mapping", "core/vendor/values")),
    ("validation", ("core/host/contract", "pydantic", "core/host/plugins", "core/types")),
    ("planning", ("core/planning/",)),
    ("database", ("sqlalchemy", "sqlite3", "core/db/", "alembic")),
    ("threads and the run", ("threading", "concurrent/futures", "core/workers", "core/sync/", "queue.py")),
]


def phase_of(stack: str) -> str:
    frames = stack.split(";")
    if any("_find_and_load" in f or "_call_with_frames_removed" in f for f in frames):
        return "start-up (imports)"
    for frame in reversed(frames):
        for phase, needles in PHASES:
            if any(n in frame for n in needles):
                return phase
    return "other (CLI, config, logging)"


def main() -> None:
    path, requests, cpu = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    counts: Counter[str] = Counter()
    for line in open(path, encoding="utf-8"):
        stack, _, n = line.rstrip("\n").rpartition(" ")
        if stack:
            counts[phase_of(stack)] += int(n)
    total = sum(counts.values())
    print(f"| phase | share of samples | ms per request ({requests} requests, {cpu:.2f} s CPU) |")
    print("|---|---|---|")
    for phase, n in counts.most_common():
        print(f"| {phase} | {100 * n / total:.0f}% | {cpu * 1000 / requests * n / total:.3f} |")


if __name__ == "__main__":
    main()

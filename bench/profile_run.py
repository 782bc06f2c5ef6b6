"""Deterministic profile of one CLI command across all its threads (cProfile in each thread, merged),
split into the phases of bench/profile_split.py, scaled to the process's measured CPU.

    .venv/bin/python bench/profile_run.py REQUESTS -- -c CONFIG run --once

Each thread's own CPU time (``time.thread_time``), so waiting on a socket or a lock costs nothing;
a builtin's time goes to its caller's phase; module-level code is start-up. cProfile slows small
functions more than large ones, so the split is a guide: the milliseconds in the README spread the
CPU measured without the profiler by these shares.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from profile_split import PHASES  # noqa: E402

profiles: list[cProfile.Profile] = []
_run = threading.Thread.run


def _profiled_run(self: threading.Thread) -> None:
    profile = cProfile.Profile(time.thread_time)
    profiles.append(profile)
    profile.enable()
    try:
        _run(self)
    finally:
        profile.disable()


def phase_of(filename: str, name: str) -> str:
    where = f"{filename}:{name}"
    if name == "<module>" or "importlib" in where or "<frozen" in where:
        return "start-up (imports)"
    for phase, needles in PHASES:
        if any(n in where for n in needles):
            return phase
    if "importlib" in where or "<frozen" in where:
        return "start-up (imports)"
    return "other (CLI, config, logging, run)"


def main() -> None:
    requests = int(sys.argv[1])
    args = sys.argv[sys.argv.index("--") + 1:]
    threading.Thread.run = _profiled_run  # type: ignore[method-assign]
    started = time.process_time()
    main_profile = cProfile.Profile(time.thread_time)
    profiles.append(main_profile)
    main_profile.enable()
    try:
        from core.cli import main as cli

        sys.argv = ["integrator", *args]
        cli()
    except SystemExit:
        pass
    finally:
        main_profile.disable()
    cpu = time.process_time() - started
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        stats.add(profile)
    split: Counter[str] = Counter()
    for (filename, _, name), (_, _, tottime, _, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if filename == "~" and callers:  # a builtin (a socket read, json's scanner): its callers' phase
            for (cfile, _, cname), (_, _, ctt, _) in callers.items():
                split[phase_of(cfile, cname)] += ctt
        else:
            split[phase_of(filename, name)] += tottime
    total = sum(split.values())
    print(f"\nprofiled CPU {cpu:.2f} s (with cProfile: {cpu * 1000 / requests:.2f} ms per request); "
          f"{len(profiles)} threads", file=sys.stderr)
    for phase, seconds in split.most_common():
        print(f"{phase}\t{seconds / total:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()

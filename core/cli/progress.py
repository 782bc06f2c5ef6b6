"""Progress on stderr when it is a terminal (and not -q); nothing otherwise.

One bar per phase, each counting what its label says: logging in and listing the vendor's companies
(a spinner: the count is not known yet), then the customers whose subscriptions have been listed.
Log lines printed meanwhile go above the bars (``core.cli.logs``), never into them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Update = Callable[[int, int], None]  # (done, total)


def enabled() -> bool:
    """On a terminal, unless -q or --log-format json (where every stderr line is a JSON object)."""
    from core.cli import logs

    return sys.stderr.isatty() and not logs.quiet() and logs.line("") == ""


@contextmanager
def _live(wanted: bool = True) -> Iterator[Any]:
    if not wanted or not enabled():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from core.cli import logs

    console = Console(file=sys.stderr)
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, redirect_stdout=False, redirect_stderr=False)
    logs.push_console(console)
    try:
        with progress:
            yield progress
    finally:
        logs.pop_console(console)


class _Phases:
    """The bars of one command: per entity synced, the listing phase then the counted phase."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.spinners: list[Any] = []

    def finish_spinners(self) -> None:
        for task in self.spinners:
            self.progress.update(task, total=1, completed=1)
        self.spinners.clear()

    def entity(self, entity: str, vendor: str | None = None) -> Update | None:
        if self.progress is None:
            return None
        self.finish_spinners()
        who = f"{vendor} " if vendor else ""
        if entity == "customers":
            label = f"{who}customers: logging in, listing and importing companies"
        else:
            label = f"{who}{entity}: logging in and listing companies"
        self.spinners.append(self.progress.add_task(label, total=None))
        counted: dict[str, Any] = {}

        def update(done: int, total: int) -> None:
            if "task" not in counted:
                self.finish_spinners()
                counted["task"] = self.progress.add_task(f"{who}Listing subscriptions: customers done",
                                                         total=max(total, 1))
            self.progress.update(counted["task"], completed=done, total=max(total, 1))

        return update


@contextmanager
def progress_bar(label: str) -> Iterator[Update | None]:
    """One sync's bars (``integrator import subscriptions``); ``label`` is kept for callers' sake."""
    with entity_progress() as for_entity:
        yield for_entity("subscriptions")


@contextmanager
def entity_progress(enabled: bool = True) -> Iterator[Callable[[str], Update | None]]:
    """Bars for each synced entity (``integrator run --once``, ``integrator demo``); ``enabled=False``
    for --json without -v (nothing human on stderr)."""
    with _live(enabled) as progress:
        phases = _Phases(progress)
        try:
            yield phases.entity
        finally:
            if progress is not None:
                phases.finish_spinners()

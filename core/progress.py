"""A progress bar on stderr when stdout is a terminal; silence otherwise."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    if not sys.stdout.isatty():
        yield None
        return
    state: dict[str, object] = {}

    def update(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr, show_pos=True)
            bar.__enter__()
            state["bar"] = bar
        bar.update(done - bar.pos)  # type: ignore[attr-defined]

    try:
        yield update
    finally:
        bar = state.get("bar")
        if bar is not None:
            bar.__exit__(None, None, None)  # type: ignore[attr-defined]


@contextmanager
def entity_progress() -> Iterator[Callable[[str], Callable[[int, int], None] | None]]:
    """A progress bar per synced entity (``integrator run --once``, ``integrator demo``)."""
    with contextlib.ExitStack() as stack:

        def for_entity(entity: str) -> Callable[[int, int], None] | None:
            return stack.enter_context(progress_bar(f"Syncing {entity}"))

        yield for_entity

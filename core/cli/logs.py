"""Where log lines go: stderr, as text or one JSON object per event, never through a progress bar."""

from __future__ import annotations

import ast
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from core.text import visible, visible_lines

#: What a human line starts with, left out of its JSON message (the JSON's level says it).
_HUMAN_PREFIX = re.compile(r"^(integrator: )?((error|warning|hint|skipped|internal error): )?", re.I)
_PAIR = re.compile(r"""(\w+)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+)""")
#: While a progress display is live, log lines are printed through it (above the bars), not beside them.
_live_console: list[Any] = []
#: What -v/-q/--log-format set for this process (before or after the command name).
state: dict[str, Any] = {"verbosity": 0, "log_format": "text"}


def quiet() -> bool:
    """-q: only errors on stderr, no progress bars."""
    return state["verbosity"] < 0


def fields_of(message: str) -> dict[str, Any]:
    """``event=sync_done vendor=acme errors=2`` -> {"event": "sync_done", "vendor": "acme", "errors": 2}."""
    result: dict[str, Any] = {}
    for key, raw in _PAIR.findall(message):
        try:
            value: Any = ast.literal_eval(raw) if raw[0] in "'\"" or raw[0].isdigit() or raw[0] == "-" else raw
        except (ValueError, SyntaxError):
            value = raw
        result[key] = value
    return result


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, Z), level, logger, message and the event's key=value fields."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        data: dict[str, Any] = {"time": stamp.replace("+00:00", "Z"), "level": record.levelname.lower(),
                                "logger": record.name, "message": message}
        if message.startswith("event="):
            data.update({k: v for k, v in fields_of(message).items() if k not in data})
        return json.dumps(data, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """stderr of the moment (tests swap it); through the live progress display when there is one."""

    integrator = True

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def format(self, record: logging.LogRecord) -> str:
        return visible_lines(super().format(record))  # vendor text in a message: shown, never obeyed

    def emit(self, record: logging.LogRecord) -> None:
        if _live_console:
            try:
                _live_console[-1].print(self.format(record), markup=False, highlight=False, soft_wrap=True)
            except Exception:
                self.handleError(record)
            return
        self.stream = sys.stderr
        super().emit(record)

    def flush(self) -> None:
        self.stream = sys.stderr
        try:
            super().flush()
        except ValueError:  # a stream that was closed under us (tests swap stderr)
            pass


def configure(verbosity: int, log_format: str = "text") -> None:
    """-q: errors only; default: warnings; -v: what happens; -vv: debugging, HTTP included."""
    state.update(verbosity=verbosity, log_format=log_format)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "integrator", False)]:
        root.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter("integrator: %(levelname)s: %(message)s"))
    root.addHandler(handler)
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    root.setLevel(level)
    for noisy in ("urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    logging.getLogger("integrator.runs").setLevel(logging.NOTSET)


def push_console(console: Any) -> None:
    _live_console.append(console)


def pop_console(console: Any) -> None:
    if console in _live_console:
        _live_console.remove(console)


def verbose() -> bool:
    """-v was given: INFO shows, and --json commands also write their human report on stderr."""
    return bool(state["verbosity"] >= 1)


def line(message: str, level: str = "error") -> str:
    """One line for stderr that is not a log record (a command's error, warning or hint): as written in
    text mode; with --log-format json one JSON object, as a log event of that level would be."""
    if state["log_format"] != "json":
        return message
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    text = _HUMAN_PREFIX.sub("", message, count=1)
    return json.dumps({"time": stamp, "level": level, "logger": "integrator", "message": text},
                      ensure_ascii=False)


def echo(message: str, level: str = "error") -> None:
    """Write ``message`` on stderr (each of its lines, in JSON mode), through a live progress display."""
    for part in message.splitlines() or [""]:
        if state["log_format"] == "json" and not part.strip():
            continue
        text = line(visible(part), level)  # vendor text in a message: shown, never obeyed
        if _live_console:
            _live_console[-1].print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

"""``python -m core.cli``: the same as the ``integrator`` command."""

from __future__ import annotations

from core.cli import main

main()

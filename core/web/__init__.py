"""The web console: a second face on the core functions the CLI calls (``integrator web``).

``create_app`` builds the ASGI application; ``command`` holds the click group."""

from __future__ import annotations

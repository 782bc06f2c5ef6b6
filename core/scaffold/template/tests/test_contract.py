"""The hook contract, checked by the core's conformance kit against this plugin's hard-coded records."""

from __future__ import annotations

from typing import Any

import pytest

from __PACKAGE__.records import SAMPLE_PASSWORD
from core.testing import VendorPluginContract


class Test__CLASS__Contract(VendorPluginContract):
    vendor = "__NAME__"

    @pytest.fixture
    def settings(self) -> dict[str, Any]:
        return {"username": "api-user@example.com", "password": SAMPLE_PASSWORD}

    @pytest.fixture
    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {**settings, "password": "wrong-password"}

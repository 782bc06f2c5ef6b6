"""Hard-coded records in the shape the __TITLE__ API answers, served until client.py calls the API."""

from __future__ import annotations

from typing import Any

SAMPLE_PASSWORD = "sample-password"
ACCOUNT: dict[str, Any] = {"id": "R-1", "name": "__TITLE__ Reseller"}
CUSTOMERS: list[dict[str, Any]] = [
    {"id": "C-100", "name": "__TITLE__ Sample Customer One", "status": "active",
     "address": {"street": "1 Sample Street", "city": "Reading", "zip": "RG1 1AA", "country": "GB"}},
    {"id": "C-200", "name": "__TITLE__ Sample Customer Two", "status": "active"},
]
SUBSCRIPTIONS: dict[str, list[dict[str, Any]]] = {
    "C-100": [
        {"id": "S-1001", "product": "Backup 1 TB", "status": "active", "seats": 5, "unit_price": "4.20",
         "unit_cost": "3.10", "currency": "EUR", "start": "2026-01-01"},
    ],
    "C-200": [
        {"id": "S-2001", "product": "Mail Security", "status": "active", "seats": "20", "unit_price": 1.5,
         "unit_cost": 1.1, "currency": "EUR", "start": "2025-06-01T00:00:00Z"},
        {"id": "S-2002", "product": "Archive", "status": "cancelled", "seats": 0, "end": "2026-02-28"},
    ],
}

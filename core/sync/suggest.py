"""Suggesting customers for unmapped vendor companies; a person confirms with 'mappings add'."""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any

from core.db import store
from core.host.plugins import VendorFacade
from core.planning.customers import CustomerRow
from core.sync.app import App
from core.types import VendorCustomer

LEGAL_SUFFIXES = {
    "ltd", "limited", "gmbh", "inc", "incorporated", "llc", "plc", "ag", "sa", "sarl", "sas", "bv", "nv", "ab",
    "oy", "as", "aps", "sro", "srl", "spa", "co", "corp", "corporation", "company", "kg", "ug", "pty", "the",
}


def normalise(name: str) -> str:
    """Case, accents, punctuation and legal suffixes removed: 'Müller & Söhne GmbH' -> 'muller sohne'."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("&", " and ")
    text = re.sub(r"\b(s\.r\.o|s\.a\.r\.l|s\.a|b\.v|n\.v)\.?", lambda m: m.group(0).replace(".", ""), text)
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in LEGAL_SUFFIXES and w != "and"]
    return " ".join(words)


def _domain_stems(company: VendorCustomer) -> set[str]:
    domains = set(company.domains)
    if company.email and "@" in company.email:
        domains.add(company.email.rsplit("@", 1)[1].lower())
    return {d.split(".")[0] for d in domains if d and d.split(".")[0] not in ("gmail", "outlook", "hotmail")}


def rank(company: VendorCustomer, customers: list[CustomerRow], limit: int = 3) -> list[dict[str, Any]]:
    target = normalise(company.name)
    stems = _domain_stems(company)
    scored = []
    for customer in customers:
        candidate = normalise(customer.name)
        if not candidate:
            continue
        if candidate == target:
            score, why = 95, "same name apart from case, punctuation and legal form"
        elif stems & set(candidate.split()) or candidate.replace(" ", "") in stems:
            score, why = 80, "e-mail domain matches the name"
        else:
            ratio = difflib.SequenceMatcher(None, target, candidate).ratio()
            if ratio < 0.75:
                continue
            score, why = int(ratio * 75), f"similar name ({ratio:.0%})"
        scored.append({"customer": customer.name, "score": score, "why": why})
    scored.sort(key=lambda c: (-c["score"], c["customer"]))
    return scored[:limit]


def suggest_mappings(app: App, vendor: str, companies: list[VendorCustomer] | None = None) -> list[dict[str, Any]]:
    """``companies``: the vendor's listing when the caller already has it (the console shows it too)."""
    if companies is None:
        settings = app.config.integration(vendor)
        facade = VendorFacade(app.pm, vendor)
        connection = facade.connect(settings)
        try:
            companies = facade.list_customers(connection).items
        finally:
            connection.close()
    with app.sessions() as session:
        customers = store.customer_rows(session)
        mapped = {m.external_id for m in store.mapping_rows(session, vendor)}
        taken = {m.customer_id for m in store.mapping_rows(session, vendor)}
    free = [c for c in customers if c.id not in taken]
    result = []
    for company in companies:
        if company.external_id in mapped:
            continue
        candidates = rank(company, free)
        if candidates:
            result.append({"external_id": company.external_id, "external_name": company.name,
                           "candidates": candidates})
    return result

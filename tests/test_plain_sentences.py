"""Counts read as sentences: "1 licence", "2 licences", never "licence(s)"."""

from __future__ import annotations

from core.text import counted


def test_counted_picks_the_number():
    assert counted(1, "licence") == "1 licence"
    assert counted(0, "licence") == "0 licences"
    assert counted(2, "company", "companies") == "2 companies"


"""Adaptive concurrency: against a vendor that accepts only a few calls at once, the sync finds that
rate by itself (AIMD on 429/503), finishes without failures, and says what it found."""

from __future__ import annotations

import logging

import pytest

from core.vendor.pacing import Pacer
from plugins.also import sandbox as sb

COMPANIES = 240


@pytest.fixture
def limited_sandbox():
    server = sb.SandboxServer(sb.make_state(sb.generated_data(COMPANIES, 1)), "127.0.0.1", 0).start()
    yield server
    server.stop()


def test_the_limit_halves_on_a_throttle_once_per_round_trip_and_grows_back_by_one_per_sixteen_successes():
    pacer = Pacer(16)
    pacer.round_trip = 60.0  # nothing completes in this test: every throttle falls in one round trip
    pacer.throttle()
    pacer.throttle()
    pacer.throttle()
    assert pacer.limit == 8 and pacer.throttled == 3
    for _ in range(17):  # one more in flight per max_concurrency successes
        pacer.done(pacer.acquire(), ok=True)
    assert pacer.limit == 9
    assert pacer.report().limit_lowest == 8


def test_a_sync_against_a_vendor_allowing_three_calls_at_once_backs_off_and_succeeds(
        cli, write_config, limited_sandbox, db, caplog):
    write_config(url=limited_sandbox.url, max_concurrency=16, retries=8, backoff_seconds=0.01)
    assert cli("import", "customers", "also").code == 0
    state = limited_sandbox.state
    state.latency = 0.01
    state.max_in_flight = 3
    with caplog.at_level(logging.INFO):
        result = cli("import", "subscriptions", "also")
    assert result.code == 0, result.err
    assert db.query("SELECT count(*) FROM licences") == [(COMPANIES,)]
    # Without backing off, 13 of every 16 calls are refused and retried: about 140 refusals here.
    assert 0 < state.throttled < COMPANIES / 4, state.throttled
    said = [r.getMessage() for r in caplog.records if "throttled" in r.getMessage()]
    assert said and "in flight backed off from 16 to" in said[0], said
    assert "requests at" in said[0]

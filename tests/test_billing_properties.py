"""Property tests of the charges over random licence histories."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.billing.charges import CENT, advance, arrears, corrections, full_month
from core.config.billing import Period
from tests.billing_helpers import basic, ledger

ZONES = [ZoneInfo("UTC"), ZoneInfo("Europe/Zurich"), ZoneInfo("Pacific/Auckland"), ZoneInfo("America/New_York")]
periods = st.builds(Period, st.integers(2024, 2030), st.integers(1, 12))
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)
quantities = st.integers(0, 500)


@settings(max_examples=150, deadline=None)
@given(period=periods, quantity=st.integers(1, 500), price=prices, cost=prices, zone=st.sampled_from(ZONES),
       days_before=st.integers(32, 400))
def test_with_no_change_a_months_lines_sum_to_quantity_times_price(period, quantity, price, cost, zone,
                                                                   days_before):
    created = datetime.combine(period.first - timedelta(days=days_before), datetime.min.time()).replace(hour=12)
    lic = ledger(created.isoformat(" "), basic(quantity, str(price), str(cost)), zone=zone)
    for lines in (arrears(lic, period), advance(lic, period), arrears(lic, period, "none")):
        assert sum(ln.amount for ln in lines) == quantity * price
        assert sum(ln.cost for ln in lines) == quantity * cost
        assert [ln.kind for ln in lines] == ["recurring"]


@st.composite
def histories(draw):
    """A licence created at a random moment around month M-1, changed a few times through month M."""
    period = draw(periods)
    previous = period.previous()
    start = datetime.combine(previous.first - timedelta(days=40), datetime.min.time())
    span = (period.last - previous.first).days + 41
    moments = sorted(draw(st.lists(st.integers(0, span * 24 * 60 - 1), min_size=1, max_size=8)))
    stamps = [(start + timedelta(minutes=m)).isoformat(" ") for m in moments]
    first = basic(draw(quantities), str(draw(prices)), str(draw(prices)), active=draw(st.booleans()))
    changes = []
    for stamp in stamps[1:]:
        change = draw(st.sampled_from(["quantity", "active", "price", "cost", "both"]))
        values: dict[str, object] = {}
        if change in ("quantity", "both"):
            values["quantity"] = draw(quantities)
        if change in ("price", "both"):
            values["price"] = draw(prices)
        if change == "cost":
            values["cost"] = draw(prices)
        if change == "active":
            values["active"] = draw(st.booleans())
        changes.append((stamp, values))
    zone = draw(st.sampled_from(ZONES))
    return period, ledger(stamps[0], first, *changes, zone=zone)


@settings(max_examples=300, deadline=None)
@given(case=histories())
def test_advance_corrections_plus_the_full_previous_month_equal_its_arrears(case):
    period, lic = case
    previous = period.previous()
    fixes = corrections(lic, previous)
    assert [ln for ln in advance(lic, period) if ln.start < period.first] == fixes
    full = full_month(lic, previous)
    actual = arrears(lic, previous)
    for what in ("amount", "cost"):
        billed = sum(getattr(ln, what) for ln in full + fixes)
        owed = sum(getattr(ln, what) for ln in actual)
        assert abs(billed - owed) <= CENT * max(1, len(full) + len(fixes) + len(actual))


@settings(max_examples=300, deadline=None)
@given(case=histories())
def test_arrears_lines_cover_distinct_days_of_the_month_at_the_ledgers_state(case):
    period, lic = case
    lines = arrears(lic, period)
    days = [ln.start + timedelta(days=i) for ln in lines for i in range(ln.days)]
    assert len(days) == len(set(days))
    assert all(period.first <= d <= period.last for d in days)
    billable = [period.first + timedelta(days=i) for i in range(period.days)
                if (s := lic.state_on(period.first + timedelta(days=i))) is not None and s.billable]
    assert sorted(days) == billable
    for line in lines:
        state = lic.state_on(line.start)
        assert state is not None and line.quantity == state.quantity and line.unit_price == state.price
        assert abs(line.amount - line.quantity * line.unit_price * line.days / line.period_days) <= CENT / 2


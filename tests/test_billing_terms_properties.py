"""Issue 24's properties of term billing (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.billing.charges import prorate
from core.billing.terms import TERM_MONTHS, Cycle, all_lines, term_of
from core.config.billing import Period
from tests.billing_helpers import basic, ledger

starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)
cycles = st.sampled_from([Cycle.ANNUAL, Cycle.TWO_YEAR, Cycle.THREE_YEAR])


@settings(max_examples=40, deadline=None)
@given(start=starts, quantity=st.integers(1, 500), price=prices, cycle=cycles, terms=st.integers(1, 3))
def test_a_licence_that_never_changes_is_charged_quantity_x_unit_price_per_period(start, quantity, price, cycle,
                                                                                  terms):
    led = ledger(f"{start.isoformat()} 09:00", basic(quantity, str(price), None, start=start, cycle=cycle.value))
    months = TERM_MONTHS[cycle] * terms
    month, total, count = Period.of(start), Decimal(0), 0
    for _ in range(months):
        found, _unknown = all_lines([led], month, "arrears", "daily")
        total += sum((ln.amount for ln in found), Decimal(0))
        count += len(found)
        month = month.next()
    assert count == terms
    assert total == quantity * price * terms


@settings(max_examples=40, deadline=None)
@given(start=starts, quantity=st.integers(1, 50), added=st.integers(1, 50), price=prices, cycle=cycles,
       term=st.integers(1, 3))
def test_an_increase_on_the_terms_first_day_is_the_whole_period(start, quantity, added, price, cycle, term):
    months = TERM_MONTHS[cycle]
    first, last = term_of(start, months, start + timedelta(days=366 * 3 * term))
    # an increase on a later term's first day: that term's own line charges the new quantity in full
    led = ledger(f"{start.isoformat()} 09:00", basic(quantity, str(price), None, start=start, cycle=cycle.value),
                 (f"{first.isoformat()} 08:00", {"quantity": quantity + added}))
    found, _ = all_lines([led], Period.of(first), "arrears", "daily")
    assert [(ln.kind.value, ln.quantity, ln.amount) for ln in found] == [("term", quantity + added,
                                                                          (quantity + added) * price)]
    # and the pro-rata formula on the first day (days left = days in the period) is the whole period
    days = (last - first).days + 1
    assert prorate(added, price, days, days) == added * price

"""Issue 24: term, one-time and trial licences, hand-computed to the cent (interface.md "Billing terms")."""

from __future__ import annotations

from datetime import date

import pytest

from core.billing.terms import add_months, all_lines, parse_cycle, periods, term_of
from core.config.billing import Period
from tests.billing_helpers import basic, ledger, money

NOV, DEC = Period(2026, 11), Period(2026, 12)


def annual(quantity: int = 5, start: date = date(2026, 11, 1), cycle: str = "Annual", price: str = "120.00",
           cost: str = "100.00"):
    return basic(quantity, price, cost, start=start, cycle=cycle, name="Microsoft 365 Business Premium")


def lines(led, period, mode="arrears"):
    found, unknown = all_lines([led], period, mode, "daily")
    assert not unknown
    return found


def shape(found):
    return [(ln.kind.value, ln.start.isoformat(), ln.end.isoformat(), ln.days, ln.period_days, ln.quantity,
             ln.as_json()["amount"], ln.as_json()["cost"]) for ln in found]


def test_an_annual_licence_is_charged_its_whole_year_in_its_start_month_and_nothing_the_next():
    led = ledger("2026-11-01 10:00", annual())
    assert shape(lines(led, NOV)) == [("term", "2026-11-01", "2027-10-31", 365, 365, 5, "600.00", "500.00")]
    assert lines(led, DEC) == []
    assert lines(led, NOV, mode="advance") == lines(led, NOV)  # terms are the same whatever billing.mode


def test_an_increase_mid_term_is_charged_pro_rata_to_the_terms_end():
    # 2 added units on 10 Feb 2027: 10 Feb..31 Oct = 264 days of 365; 2 x 120 x 264 / 365 = 173.589.. -> 173.59
    led = ledger("2026-11-01 10:00", annual(), ("2027-02-10 09:00", {"quantity": 7}))
    assert shape(lines(led, Period(2027, 2))) == [
        ("term_prorata", "2027-02-10", "2027-10-31", 264, 365, 2, "173.59", "144.66")]
    assert lines(led, Period(2027, 3)) == []


def test_a_decrease_mid_term_earns_no_credit():
    led = ledger("2026-11-01 10:00", annual(), ("2027-02-10 09:00", {"quantity": 3}))
    assert lines(led, Period(2027, 2)) == []
    # ... and the next term is charged at the quantity of its first day
    assert shape(lines(led, Period(2027, 11))) == [
        ("term", "2027-11-01", "2028-10-31", 366, 366, 3, "360.00", "300.00")]


def test_a_decrease_inside_the_7_day_window_is_credited_pro_rata():
    # -2 on 5 Nov (the 5th day of the term): 5 Nov..31 Oct = 361 days; 2 x 120 x 361 / 365 = 237.369.. -> 237.37
    led = ledger("2026-11-01 10:00", annual(), ("2026-11-05 09:00", {"quantity": 3}))
    assert shape(lines(led, NOV)) == [
        ("term", "2026-11-01", "2027-10-31", 365, 365, 5, "600.00", "500.00"),
        ("term_prorata", "2026-11-05", "2027-10-31", 361, 365, -2, "-237.37", "-197.81")]
    # the window is the start day and the 6 after it: on the 8th, no credit
    late = ledger("2026-11-01 10:00", annual(), ("2026-11-08 09:00", {"quantity": 3}))
    assert [ln.kind.value for ln in lines(late, NOV)] == ["term"]


def test_the_anniversary_month_charges_the_next_year_in_full():
    led = ledger("2026-11-01 10:00", annual(), ("2027-02-10 09:00", {"quantity": 7}))
    # 1 Nov 2027..31 Oct 2028 holds 29 Feb 2028: 366 days; 7 x 120 = 840.00 whatever the length
    assert shape(lines(led, Period(2027, 11))) == [
        ("term", "2027-11-01", "2028-10-31", 366, 366, 7, "840.00", "700.00")]
    assert lines(led, Period(2027, 10)) == []


def test_a_three_year_term_is_charged_once_in_three_years():
    led = ledger("2026-11-15 10:00", annual(2, date(2026, 11, 15), "3-Year", "900.00", "750.00"))
    assert shape(lines(led, NOV)) == [("term", "2026-11-15", "2029-11-14", 1096, 1096, 2, "1800.00", "1500.00")]
    month = NOV
    for _ in range(35):
        month = month.next()
        assert lines(led, month) == [], month
    assert shape(lines(led, Period(2029, 11))) == [
        ("term", "2029-11-15", "2032-11-14", 1096, 1096, 2, "1800.00", "1500.00")]


def test_a_period_across_29_february_counts_366_days():
    # 15 Jun 2027..14 Jun 2028 = 366 days; +1 on 15 Jan 2028: 15 Jan..14 Jun = 152 days; 100 x 152 / 366 = 41.53
    led = ledger("2027-06-15 10:00", annual(4, date(2027, 6, 15), price="100.00", cost="80.00"),
                 ("2028-01-15 08:00", {"quantity": 5}))
    assert shape(lines(led, Period(2027, 6))) == [
        ("term", "2027-06-15", "2028-06-14", 366, 366, 4, "400.00", "320.00")]
    assert shape(lines(led, Period(2028, 1))) == [
        ("term_prorata", "2028-01-15", "2028-06-14", 152, 366, 1, "41.53", "33.22")]


def test_a_term_begun_on_29_february_renews_on_28_february_and_on_29_in_a_leap_year():
    led = ledger("2028-02-29 10:00", annual(1, date(2028, 2, 29)))
    assert shape(lines(led, Period(2028, 2))) == [("term", "2028-02-29", "2029-02-27", 365, 365, 1, "120.00", "100.00")]
    assert [(ln.start, ln.end) for ln in lines(led, Period(2029, 2))] == [(date(2029, 2, 28), date(2030, 2, 27))]
    assert [ln.start for ln in lines(led, Period(2032, 2))] == [date(2032, 2, 29)]


def test_one_time_is_charged_once_in_its_start_month():
    led = ledger("2026-11-20 10:00", basic(3, "49.99", "40.00", start=date(2026, 11, 20), cycle="One-Time"))
    assert shape(lines(led, NOV)) == [("one_time", "2026-11-20", "2026-11-20", 1, 1, 3, "149.97", "120.00")]
    assert lines(led, DEC) == [] and lines(led, Period(2026, 10)) == []


def test_a_trial_costs_nothing():
    led = ledger("2026-11-01 10:00", basic(25, "5.60", "4.80", cycle="Trial"))
    assert lines(led, NOV) == [] and lines(led, DEC) == []


def test_monthly_licences_are_unchanged_beside_an_annual_one_in_the_same_month():
    monthly = ledger("2026-10-01 10:00", basic(5), ("2026-11-11 10:00", {"quantity": 8}), external_id="200100")
    yearly = ledger("2026-11-01 10:00", annual(), external_id="200101")
    found, unknown = all_lines([monthly, yearly], NOV, "arrears", "daily")
    # 5 x 5.60 x 10/30 = 9.33; 8 x 5.60 x 20/30 = 29.87 (the monthly rules as before)
    assert [(ln.kind.value, ln.as_json()["amount"]) for ln in found] == [
        ("prorata", "9.33"), ("prorata", "29.87"), ("term", "600.00")]
    assert unknown == []


def test_an_unknown_cycle_is_reported_and_not_charged():
    led = ledger("2026-11-01 10:00", basic(5, cycle="Quarterly"))
    found, unknown = all_lines([led], NOV, "arrears", "daily")
    assert found == [] and [(u.external_id, text) for u, text in unknown] == [("200101", "Quarterly")]


@pytest.mark.parametrize(("text", "word"), [(None, "Monthly"), ("", "Monthly"), ("monthly", "Monthly"),
                                            ("Annual", "Annual"), ("2-year", "2-Year"), ("3-Year", "3-Year"),
                                            ("One-Time", "One-Time"), ("Trial", "Trial"), ("Setup", None)])
def test_the_cycle_words(text, word):
    assert parse_cycle(text) == word


def test_anniversaries_and_periods():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert term_of(date(2026, 11, 1), 12, date(2028, 3, 3)) == (date(2027, 11, 1), date(2028, 10, 31))
    assert periods(date(2026, 11, 1), 12, date(2027, 11, 1), date(2027, 11, 30)) == [
        (date(2027, 11, 1), date(2028, 10, 31))]
    assert money([]) == []


def test_a_term_that_began_long_before_the_first_import_is_charged_at_its_next_anniversary_not_now():
    # an annual licence bought on 10 January 2026, first imported on 4 December 2026 (the PSA's first sync):
    # that year was billed before the history starts; the next one is charged in January 2027
    old = ledger("2026-12-04 10:00", annual(start=date(2026, 1, 10)))
    assert lines(old, DEC) == []
    assert shape(lines(old, Period(2027, 1))) == [
        ("term", "2027-01-10", "2028-01-09", 365, 365, 5, "600.00", "500.00")]
    three = ledger("2026-12-04 10:00", annual(start=date(2024, 3, 1), cycle="3-Year"))
    assert lines(three, DEC) == [] and lines(three, Period(2027, 2)) == []
    assert [ln.start for ln in lines(three, Period(2027, 3))] == [date(2027, 3, 1)]
    once = ledger("2026-12-04 10:00", basic(3, "49.99", "40.00", start=date(2025, 6, 1), cycle="One-Time"))
    assert lines(once, DEC) == []


def test_a_purchase_the_sync_sees_a_few_days_late_is_charged_its_whole_term():
    led = ledger("2026-11-03 10:00", annual(start=date(2026, 11, 1)))
    assert shape(lines(led, NOV)) == [("term", "2026-11-01", "2027-10-31", 365, 365, 5, "600.00", "500.00")]
    # bought on 28 November, first seen on 1 December: charged in December, the period from 28 November
    late = ledger("2026-12-01 10:00", annual(start=date(2026, 11, 28)))
    assert lines(late, NOV) == []
    assert shape(lines(late, DEC)) == [("term", "2026-11-28", "2027-11-27", 365, 365, 5, "600.00", "500.00")]
    assert [ln.start for ln in lines(late, Period(2027, 11))] == [date(2027, 11, 28)]
    once = ledger("2026-12-01 10:00", basic(3, "49.99", "40.00", start=date(2026, 11, 28), cycle="One-Time"))
    assert lines(once, NOV) == [] and shape(lines(once, DEC)) == [
        ("one_time", "2026-11-28", "2026-11-28", 1, 1, 3, "149.97", "120.00")]

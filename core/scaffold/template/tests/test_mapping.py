"""__TITLE__ JSON -> core types: good records map, bad ones become problems naming them."""

from __future__ import annotations

from decimal import Decimal

from __PACKAGE__ import mapping
from core.vendor import map_records


def test_a_subscription_maps_with_money_as_decimal():
    sub = mapping.to_subscription({"id": "S-1", "product": "Backup", "seats": "3", "unit_price": 4.2}, "C-1")
    assert (sub.external_id, sub.quantity, sub.price, sub.terminated) == ("S-1", 3, Decimal("4.2"), False)


def test_a_bad_record_is_a_problem_naming_it_and_the_rest_go_on():
    listing = map_records([{"id": "S-1", "product": "Good"}, {"id": "S-2", "product": "Bad", "seats": "lots"}],
                          lambda record: mapping.to_subscription(record, "C-1"), mapping.label)
    assert [s.name for s in listing.items] == ["Good"]
    assert [p.describe() for p in listing.problems] == ["Bad (S-2): seats is not a number: 'lots'"]

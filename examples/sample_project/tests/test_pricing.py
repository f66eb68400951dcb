import pytest

from inventory.pricing import apply_discount, order_total, parse_quantity


def test_parse_quantity():
    assert parse_quantity(" 12 ") == 12


def test_parse_quantity_rejects_zero():
    with pytest.raises(ValueError):
        parse_quantity("0")


def test_apply_discount():
    assert apply_discount(200.0, 10) == 180.0


def test_order_total_with_discount():
    assert order_total([(10.0, 2), (5.0, 4)], discount=50) == 20.0

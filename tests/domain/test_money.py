"""Money: integer minor units with an ISO currency; rounding never goes against the customer."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from returns.money import Money, allocate_in_order, format_money, percent_of, prorate


def test_format_uses_the_currency_exponent():
    assert format_money(12345, "EUR") == "123.45 EUR"
    assert format_money(500, "JPY") == "500 JPY"
    assert format_money(1005, "KWD") == "1.005 KWD"
    assert str(Money(amount=7, currency="USD")) == "0.07 USD"


def test_bad_currency_names_the_field():
    with pytest.raises(ValidationError) as err:
        Money(amount=1, currency="eur")
    assert "currency" in str(err.value)
    with pytest.raises(ValidationError):
        Money(amount=-1, currency="EUR")


def test_percent_rounds_down():
    assert percent_of(999, 3000) == 299  # 30 % of 9.99 is 2.997 -> 2.99, never 3.00


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**8), min_size=1, max_size=5))
def test_allocation_fills_in_order_and_never_overflows(amount, caps):
    if amount > sum(caps):
        with pytest.raises(ValueError):
            allocate_in_order(amount, caps)
        return
    parts = allocate_in_order(amount, caps)
    assert sum(parts) == amount
    assert all(0 <= p <= c for p, c in zip(parts, caps))
    # an earlier payment is used up before a later one is touched
    for i, p in enumerate(parts):
        if p and i:
            assert all(parts[j] == caps[j] for j in range(i))


@given(st.integers(0, 10**9), st.integers(1, 100), st.data())
def test_prorate_never_exceeds_the_whole(amount, whole, data):
    part = data.draw(st.integers(0, whole))
    assert 0 <= prorate(amount, part, whole) <= amount

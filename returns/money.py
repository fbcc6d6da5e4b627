"""Money in integer minor units with an ISO 4217 currency. Never floats."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# ISO 4217 exponents that differ from 2; every other code has two decimals.
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}


def _currency(code: str) -> str:
    if len(code) != 3 or not code.isascii() or not code.isalpha() or not code.isupper():
        raise ValueError(f"currency must be a 3-letter upper-case ISO 4217 code, got {code!r}")
    return code


# The pattern is what `_currency` checks, said in the JSON Schemas (schemas/) too.
Currency = Annotated[str, AfterValidator(_currency),
                     Field(json_schema_extra={"pattern": "^[A-Z]{3}$"},
                           description="ISO 4217 currency code, three upper-case letters")]
# Strict: "89.00" (a decimal string) or true must be refused, not read as 89 cents or 1 cent.
MinorUnits = Annotated[int, Field(ge=0, strict=True,
                                  description="amount in the currency's minor units (cents)")]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: MinorUnits
    currency: Currency

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def format_money(amount: int, currency: str) -> str:
    """`12345, "EUR"` -> `"123.45 EUR"`; for people, never parsed back."""
    exp = exponent(currency)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if exp == 0:
        return f"{sign}{amount} {currency}"
    whole, frac = divmod(amount, 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d} {currency}"


def percent_of(amount: int, basis_points: int) -> int:
    """`basis_points`/10000 of `amount`, rounded down (fees never round against the customer)."""
    if amount < 0 or basis_points < 0:
        raise ValueError("amount and basis_points must not be negative")
    return amount * basis_points // 10_000


def prorate(amount: int, part: int, whole: int) -> int:
    """The share of `amount` for `part` units out of `whole`, rounded down."""
    if whole <= 0 or part < 0 or part > whole:
        raise ValueError(f"cannot prorate {part} of {whole}")
    return amount * part // whole


def allocate_in_order(amount: int, capacities: list[int]) -> list[int]:
    """Split `amount` across capacities in order (first payment first), never above a capacity.

    Raises ValueError when the capacities cannot hold it.
    """
    if amount < 0:
        raise ValueError("amount must not be negative")
    if amount > sum(capacities):
        raise ValueError(f"cannot allocate {amount}: only {sum(capacities)} available")
    parts = []
    rest = amount
    for cap in capacities:
        take = min(cap, rest)
        parts.append(take)
        rest -= take
    return parts

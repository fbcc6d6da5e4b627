"""From what an operator types on the command line to the actions' fields. Pure (no Temporal).

Amounts are typed as the status card prints them, in the return's currency (`12.50`, `12.50 EUR`,
`12`), and sent in minor units (1250), as every action's JSON holds them.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from returns.money import exponent
from returns.status import ItemStatus

_AMOUNT = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<currency>[A-Za-z]{3})?\s*$")


class OptionError(ValueError):
    """A value that cannot be what its option asks for; the message names the option."""


def minor_units(text: str, currency: str, option: str) -> int:
    """`"12.50"` EUR -> 1250; a currency, when typed, must be the return's."""
    found = _AMOUNT.match(text)
    if not found:
        raise OptionError(f"{option}: {text!r} is not an amount like 12.50 (in {currency})")
    if found["currency"] and found["currency"].upper() != currency:
        raise OptionError(f"{option}: {text!r} is not in the return's currency {currency}")
    digits = exponent(currency)
    try:
        value = Decimal(found["number"]) * (10 ** digits)
    except InvalidOperation:
        raise OptionError(f"{option}: {text!r} is not an amount") from None
    if value != value.to_integral_value():
        raise OptionError(f"{option}: {text!r} has more than {digits} decimal(s) for {currency}")
    if value <= 0:
        raise OptionError(f"{option}: {text!r} must be more than 0")
    return int(value)


def confirmed_checks(item: ItemStatus, numbers: list[int | None]) -> bool:
    """`--check LINE=N` for each check the status card lists for this line (or `--check LINE`
    for all of them) -> checks_confirmed. Every listed check must be named: a pass confirms them
    all (the policy's clause, e.g. 003 §IV.2 certificate match)."""
    checks = item.inspection_checks
    if not checks:
        raise OptionError(f"--check: line {item.line_id} has no inspection checks to confirm")
    if None in numbers:
        return True
    unknown = sorted({n for n in numbers if not 1 <= n <= len(checks)})
    if unknown:
        raise OptionError(f"--check: line {item.line_id} has checks 1 to {len(checks)}, not "
                          f"{', '.join(map(str, unknown))}")
    missing = [n for n in range(1, len(checks) + 1) if n not in numbers]
    if missing:
        listed = "; ".join(f"{n}: {checks[n - 1]}" for n in missing)
        raise OptionError(f"--check: line {item.line_id} passes only with every check "
                          f"confirmed; not confirmed: {listed} (--check {item.line_id}="
                          f"{missing[0]}, or --fail {item.line_id} --failed-check "
                          f"{item.line_id}={missing[0]})")
    return True


__all__ = ["OptionError", "confirmed_checks", "minor_units"]

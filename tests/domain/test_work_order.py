"""The order of `returns list` (returns.work_order): what is due first, open work without a
deadline above finished returns."""

from datetime import datetime, timedelta, timezone

from returns.work_order import due_first
from returns_cli.options import OptionError, confirmed_checks, minor_units
from returns.status import ItemStatus

import pytest

T = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)


def key(rid, running=True, deadline=None, attention=False, requested=T):
    return due_first(running=running, next_deadline=deadline, needs_attention=attention,
                     requested_at=requested, return_id=rid)


def test_due_first_then_work_without_a_deadline_then_finished() -> None:
    rows = {
        "finished-old": key("finished-old", running=False, requested=T - timedelta(days=9)),
        "finished-new": key("finished-new", running=False, requested=T),
        "no-deadline": key("no-deadline", requested=T - timedelta(days=1)),
        "no-deadline-attention": key("no-deadline-attention", attention=True, requested=T),
        "due-later": key("due-later", deadline=T + timedelta(days=3)),
        "overdue": key("overdue", deadline=T - timedelta(hours=1)),
    }
    assert sorted(rows, key=rows.get) == [
        "overdue", "due-later", "no-deadline-attention", "no-deadline", "finished-new",
        "finished-old"]


def test_amounts_are_typed_as_the_card_prints_them() -> None:
    assert minor_units("12.50", "EUR", "--fee") == 1250
    assert minor_units("12", "EUR", "--fee") == 1200
    assert minor_units("12.50 eur", "EUR", "--fee") == 1250
    assert minor_units("1200", "JPY", "--fee") == 1200
    for bad, words in (("12.5.0", "not an amount"), ("1.234", "more than 2 decimal"),
                       ("0", "more than 0"), ("5 USD", "not in the return's currency EUR")):
        with pytest.raises(OptionError, match=words):
            minor_units(bad, "EUR", "--fee")


def test_a_pass_confirms_every_check_or_names_those_left() -> None:
    pearl = ItemStatus(line_id="1", sku="P", title="Pearl", quantity_requested=1, eligible=True,
                       resolution="refund", inspection_checks=["003 §II.3: unworn",
                                                               "003 §IV.2: certificate"])
    assert confirmed_checks(pearl, [1, 2]) and confirmed_checks(pearl, [None])
    with pytest.raises(OptionError, match=r"not confirmed: 2: 003 §IV.2: certificate"):
        confirmed_checks(pearl, [1])
    with pytest.raises(OptionError, match="has no inspection checks"):
        confirmed_checks(pearl.model_copy(update={"inspection_checks": []}), [1])


def test_every_action_has_its_command() -> None:
    """`returns show` names the command of each action the card offers; every action has one."""
    from returns.allowed import Action
    from returns_cli.main import COMMANDS
    from returns_cli.render import COMMAND_OF

    assert set(COMMAND_OF) == {a.value for a in Action}
    assert set(COMMAND_OF.values()) <= set(COMMANDS)

"""RETURNS_FAULTS, the fault plan the fault test and bench/faults.py give the workers
(runtime/faults.py, docs/faults.md): parsed strictly, drawn reproducibly, outages bounded."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from activities import contracts as c
from runtime.faults import FaultPlan


def attempt(n: int, workflow_id: str = "return-F1", activity_id: str = "7") -> SimpleNamespace:
    return SimpleNamespace(workflow_id=workflow_id, activity_id=activity_id, attempt=n)


def test_parses_every_setting() -> None:
    plan = FaultPlan.parse("seed=7; refund:fail=0.3,lost=0.2 ;email:hang=1;hang_s=1.5;outage=3")
    assert plan.seed == 7 and plan.hang_seconds == 1.5 and plan.outage == 3
    assert plan.rates == {c.ISSUE_REFUND: {"fail": 0.3, "lost": 0.2}, c.SEND_NOTIFICATION: {"hang": 1.0}}


@pytest.mark.parametrize("spec, names", [
    ("parcel:fail=0.1", "'parcel:fail=0.1'"),
    ("refund:explode=0.1", "'explode'"),
    ("refund:fail=1.5", "refund:fail"),
    ("outage=0", "'outage=0'"),
])
def test_a_bad_plan_names_the_part_at_fault(spec: str, names: str) -> None:
    with pytest.raises(ValueError, match="RETURNS_FAULTS") as err:
        FaultPlan.parse(spec)
    assert names in str(err.value)


def test_draws_depend_only_on_seed_workflow_activity_and_attempt() -> None:
    plan = FaultPlan.parse("seed=3;refund:fail=0.5,lost=0.5")
    again = FaultPlan.parse("seed=3;refund:fail=0.5,lost=0.5")
    draws = [plan.draw(c.ISSUE_REFUND, attempt(n, f"return-F{w}")) for w in range(20) for n in (1, 2)]
    assert draws == [again.draw(c.ISSUE_REFUND, attempt(n, f"return-F{w}"))
                     for w in range(20) for n in (1, 2)]
    assert {frozenset(d) for d in draws} > {frozenset()}  # some faults, not all the same
    other_seed = FaultPlan.parse("seed=4;refund:fail=0.5,lost=0.5")
    assert draws != [other_seed.draw(c.ISSUE_REFUND, attempt(n, f"return-F{w}"))
                     for w in range(20) for n in (1, 2)]


def test_an_outage_ends_after_its_attempts() -> None:
    """Without `outage` a provider can fail every attempt (a refund's backoff then grows without
    bound); with outage=3 attempts 4 and later always run clean."""
    always = FaultPlan.parse("refund:fail=1,lost=1,hang=1")
    assert always.draw(c.ISSUE_REFUND, attempt(50)) == {"fail", "lost", "hang"}
    bounded = FaultPlan.parse("refund:fail=1,lost=1,hang=1;outage=3")
    assert [bounded.draw(c.ISSUE_REFUND, attempt(n)) for n in range(1, 7)] == [
        {"fail", "lost", "hang"}] * 3 + [set()] * 3


def test_activities_without_rates_are_never_faulted() -> None:
    plan = FaultPlan.parse("refund:fail=1")
    assert plan.draw(c.SEND_NOTIFICATION, attempt(1)) == set()
    assert FaultPlan.from_env({}) is None and FaultPlan.from_env({"RETURNS_FAULTS": " "}) is None

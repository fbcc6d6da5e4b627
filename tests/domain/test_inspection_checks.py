"""Conditions the policy files mark `inspection_check = true` become checks confirmed per item
at inspection (returns/inspection.py), and a failed one is named with its clause to the customer
(returns/notices.py) — issue 18 point 3, the way 003 §IV.2 already worked."""

from __future__ import annotations

import pytest

from returns import notices
from returns.actions import ItemInspection, RecordInspection
from returns.inspection import failed_check_sentence, failed_checks, inspection_problem
from returns.policy.engine import decide
from returns.policy.registry import PolicyRegistry
from returns.status import InspectionResult, ItemStatus
from tests.policy.builders import POLICIES_DIR, return_requested, requested_item

REGISTRY = PolicyRegistry.load(POLICIES_DIR)
WORN = ("004 §2.3, §5.1, §5.5: brand-new, unworn and unused, original packaging, tags, labels "
        "and documents complete; verified at inspection")


def _checks(merchant_id: str, **item) -> list[str]:
    request = return_requested(merchant_id, items=[requested_item(**item)])
    return decide(REGISTRY.get(merchant_id), request).items[0].inspection_checks


@pytest.mark.parametrize("merchant_id, item, clause", [
    ("fine-jewelry", {"reason": "size_fit"}, "004 §2.3, §5.1, §5.5"),  # non-quality condition
    ("fine-jewelry", {"reason": "defective"}, "004 §6.2"),  # wear is not a quality issue
    ("pearl-platform", {"reason": "changed_mind"}, "003 §II.4"),  # EU cooling-off: §II.3 terms
    ("pearl-platform", {"reason": "defective"}, "003 §VI.1"),  # improper wearing or care
    ("opalook", {"reason": "defective"}, "000 §2.1"),  # negligence of the buyer excluded
])
def test_a_condition_the_policy_marks_becomes_an_inspection_check(merchant_id, item, clause):
    """004 §2.3/§6.2, 003 §II.3-4/§VI.1, 000 §2.1: "verified at inspection" is now a check."""
    assert any(c.startswith(f"{clause}: ") for c in _checks(merchant_id, **item))


def test_a_note_not_marked_stays_a_note():
    """004 §4.1 "the shipping fee incurred is not refunded" is not something to inspect."""
    assert not any(c.startswith("004 §4.1") for c in _checks("fine-jewelry", reason="size_fit"))


def _status(checks: tuple[str, ...] = (WORN, "004 §6.2: no wear")) -> dict[str, ItemStatus]:
    return {"L1": ItemStatus(line_id="L1", sku="S", title="Gold ring", quantity_requested=1,
                             eligible=True, resolution=None, quantity_received=1,
                             inspection_checks=list(checks))}


def _inspect(**fields) -> RecordInspection:
    return RecordInspection(actor="ines", items=[ItemInspection(line_id="L1", **fields)])


@pytest.fixture(scope="module")
def decision():
    request = return_requested("fine-jewelry", items=[requested_item(reason="size_fit")])
    return decide(REGISTRY.get("fine-jewelry"), request)


def test_a_pass_needs_every_check_confirmed(decision):
    """004 §2.3: the item passes only once the inspector confirms its condition."""
    assert "can pass only once the inspection confirmed: " + WORN in inspection_problem(
        decision, _status(), _inspect(passed=True))
    # The console's inspector has tick boxes, not JSON: the refusal says what to do there too.
    assert "in the console, tick each one" in inspection_problem(
        decision, _status(), _inspect(passed=True))
    assert inspection_problem(decision, _status(), _inspect(passed=True, checks_confirmed=True)) \
        is None


def test_failed_checks_are_numbers_the_status_card_lists_and_never_a_pass(decision):
    """004 §3.7 "If the inspection fails (e.g., product wear, missing packaging …)": staff name
    which check failed; a failed check with passed: true, or a number not listed, is refused
    naming the field, and nothing changes."""
    assert inspection_problem(decision, _status(), _inspect(passed=False, failed_checks=[1])) \
        is None
    assert "failed_checks 3 is not one of its checks (listed on the status card: 1 to 2)" in \
        inspection_problem(decision, _status(), _inspect(passed=False, failed_checks=[3]))
    assert "failed check(s) 1: record it with passed: false" in inspection_problem(
        decision, _status(), _inspect(passed=True, checks_confirmed=True, failed_checks=[1]))
    assert "listed on the status card: none" in inspection_problem(
        decision, _status(()), _inspect(passed=False, failed_checks=[1]))


def test_the_customer_reads_the_failed_check_with_its_clause(decision):
    """004 §3.7: the refusal names its clause: "did not meet: … (004 §2.3, §5.1, §5.5)"."""
    items = _status()
    items["L1"].inspection = InspectionResult.failed
    items["L1"].failed_checks = failed_checks(items["L1"].inspection_checks, [1, 1])
    items["L1"].inspection_notes = "scratches on the band"
    message = notices.inspection_failed(decision, items)
    assert message.startswith("Gold ring: did not meet: brand-new, unworn and unused, original "
                              "packaging, tags, labels and documents complete; verified at "
                              "inspection (004 §2.3, §5.1, §5.5); scratches on the band")
    assert "(004 §3.7)" in message  # who pays to send it back
    assert failed_check_sentence("no clause here") == "no clause here"

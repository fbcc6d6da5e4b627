"""The evaluate_return activity: the engine behind Temporal's activity API."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import EVALUATE_RETURN, ApplyOverrides, EvaluateReturn
from activities.policy import PolicyActivities
from returns.actions import ItemOverride
from returns.policy.decision import ReturnDecision

from .builders import fine_jewelry_request, requested_item, return_requested


async def test_evaluate_return_decides_with_the_merchants_policy(registry):
    """004 §2.2 through the activity: the decision is the engine's, for the request's merchant."""
    activities = PolicyActivities(registry)
    decision = await ActivityEnvironment().run(
        activities.evaluate_return, EvaluateReturn(request=fine_jewelry_request()))
    assert isinstance(decision, ReturnDecision)
    assert decision.merchant_id == "fine-jewelry" and decision.items[0].eligible
    assert decision.sla.review.amount == 2  # 004 §3.2


def test_activity_is_registered_under_the_contract_name():
    """activities.contracts.EVALUATE_RETURN is the name the workflow calls."""
    assert PolicyActivities.evaluate_return.__temporal_activity_definition.name == EVALUATE_RETURN


async def test_unknown_merchant_fails_for_good(registry):
    """No policy file for the merchant: retrying cannot help, so the error is non-retryable and
    typed UnknownMerchant, with a message naming the merchant."""
    request = return_requested("opalook").model_copy(update={"merchant_id": "acme"})
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(PolicyActivities(registry).evaluate_return,
                                        EvaluateReturn(request=request))
    assert info.value.type == "UnknownMerchant" and info.value.non_retryable
    assert "'acme'" in info.value.message


async def test_apply_overrides_activity_reprices_with_the_policy(registry):
    """004 §7.1 through the apply_overrides activity: the comparison-purchase flag doubles the fee."""
    activities = PolicyActivities(registry)
    decision = await ActivityEnvironment().run(
        activities.evaluate_return,
        EvaluateReturn(request=fine_jewelry_request(items=[requested_item(reason="size_fit")])))
    after = await ActivityEnvironment().run(activities.apply_overrides, ApplyOverrides(
        decision=decision, actor="lea",
        overrides=[ItemOverride(line_id="L1", comparison_purchase=True, reason="kept one of two")]))
    assert after.items[0].fees_total == 25_000


async def test_invalid_override_fails_for_good(registry):
    """An override naming a line that is not in the return cannot succeed on retry."""
    activities = PolicyActivities(registry)
    decision = await ActivityEnvironment().run(
        activities.evaluate_return, EvaluateReturn(request=fine_jewelry_request()))
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(activities.apply_overrides, ApplyOverrides(
            decision=decision, actor="lea",
            overrides=[ItemOverride(line_id="L9", waive_fees=True, reason="typo line")]))
    assert info.value.type == "InvalidOverride" and info.value.non_retryable
    assert "overrides[0].line_id" in info.value.message

"""The evaluate_return activity: the engine behind Temporal's activity API."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import EVALUATE_RETURN, EvaluateReturn
from activities.policy import PolicyActivities
from returns.policy.decision import ReturnDecision

from .builders import fine_jewelry_request, return_requested


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

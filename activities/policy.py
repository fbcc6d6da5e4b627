"""The `evaluate_return` activity: the merchant's policy file applied to a return request.

An activity (not workflow code) so that a policy file changed on disk and reloaded by the worker
is recorded in history as the decision that was made, and replays never re-decide.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import EVALUATE_RETURN, EvaluateReturn
from returns.policy.decision import ReturnDecision
from returns.policy.engine import decide
from returns.policy.registry import PolicyRegistry, UnknownMerchant


class PolicyActivities:
    def __init__(self, registry: PolicyRegistry) -> None:
        self._registry = registry

    @activity.defn(name=EVALUATE_RETURN)
    async def evaluate_return(self, req: EvaluateReturn) -> ReturnDecision:
        try:
            policy = self._registry.get(req.request.merchant_id)
        except UnknownMerchant as exc:
            # Retrying cannot create a policy file: fail the activity for good, readably.
            raise ApplicationError(str(exc), type="UnknownMerchant", non_retryable=True) from None
        return decide(policy, req.request)

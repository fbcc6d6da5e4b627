"""Stripe's webhook on the receiver (ingestion/stripe_webhook.py), pure parts: each merchant's
Stripe endpoint secrets, Stripe's own signature check deciding the merchant, and which events
become a return's `customer_paid` notice (issue 18 point 2). The whole path, from a signed
request to the return's workflow, is tests/lifecycle/test_customer_payment.py."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from ingestion.stripe_webhook import (
    StripeSecretProblem, env_name, load_stripe_secrets, notice_for, verified_merchant,
)

SECRETS = {"fine-jewelry": ("whsec_fine_new_0000000001", "whsec_fine_old_0000000002"),
           "opalook": ("whsec_opalook_00000000003",)}


def signed(body: bytes, secret: str, at: int | None = None) -> str:
    """As Stripe signs: the SDK's own computation of `v1`."""
    at = int(time.time()) if at is None else at
    v1 = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", secret)
    return f"t={at},v1={v1}"


def test_each_merchant_has_its_own_variable_and_a_shared_secret_is_refused(tmp_path):
    assert env_name("fine-jewelry") == "RETURNS_STRIPE_WEBHOOK_SECRETS_FINE_JEWELRY"
    env = {"RETURNS_STRIPE_WEBHOOK_SECRETS_FINE_JEWELRY": "whsec_a, whsec_b"}
    secrets_file = tmp_path / "secrets"
    secrets_file.write_text("RETURNS_STRIPE_WEBHOOK_SECRETS_OPALOOK=whsec_c\n")
    assert load_stripe_secrets(["fine-jewelry", "opalook", "pearl-platform"], env,
                               secrets_file) == {"fine-jewelry": ("whsec_a", "whsec_b"),
                                                 "opalook": ("whsec_c",)}
    with pytest.raises(StripeSecretProblem, match="also a Stripe webhook secret of merchant"):
        load_stripe_secrets(["fine-jewelry", "opalook"], {
            "RETURNS_STRIPE_WEBHOOK_SECRETS_FINE_JEWELRY": "whsec_same",
            "RETURNS_STRIPE_WEBHOOK_SECRETS_OPALOOK": "whsec_same"})


def test_the_secret_that_verifies_decides_the_merchant():
    body = b'{"id": "evt_1"}'
    assert verified_merchant(body, signed(body, SECRETS["opalook"][0]), SECRETS) == "opalook"
    # the old secret during a rotation still verifies
    assert verified_merchant(body, signed(body, SECRETS["fine-jewelry"][1]),
                             SECRETS) == "fine-jewelry"
    assert verified_merchant(body, signed(body, "whsec_someone_else"), SECRETS) is None
    assert verified_merchant(body, signed(body, SECRETS["opalook"][0], at=int(time.time()) - 600),
                             SECRETS) is None  # older than Stripe's 5 minutes
    assert verified_merchant(body + b" ", signed(body, SECRETS["opalook"][0]), SECRETS) is None
    assert verified_merchant(body, None, SECRETS) is None


def intent_event(type_: str = "payment_intent.succeeded", **meta) -> dict:
    metadata = {"collect_key": "return-fine-jewelry-R-1:collect:exchange_shipping:1",
                "merchant_id": "fine-jewelry", "return_id": "R-1", "order_id": "O-1", **meta}
    return json.loads(json.dumps({"id": "evt_1", "type": type_, "data": {"object": {
        "id": "pi_1", "object": "payment_intent", "amount_received": 4500, "currency": "usd",
        "metadata": {k: v for k, v in metadata.items() if v is not None}}}}))


def test_only_a_succeeded_payment_a_return_asked_for_becomes_a_notice_for_its_merchant():
    notice, _ = notice_for(intent_event(), "fine-jewelry")
    assert (notice.merchant_id, notice.return_id, notice.amount_received, notice.currency,
            notice.payment_intent) == ("fine-jewelry", "R-1", 4500, "USD", "pi_1")
    assert notice_for(intent_event("charge.refunded"), "fine-jewelry")[0] is None
    assert notice_for(intent_event(collect_key=None), "fine-jewelry")[0] is None
    none, why = notice_for(intent_event(), "opalook")
    assert none is None and "names merchant 'fine-jewelry', but 'opalook'" in why

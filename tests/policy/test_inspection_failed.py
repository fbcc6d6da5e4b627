"""Who ships back items that fail inspection is the merchant's policy ([inspection_failed]), told
to the customer in one sentence citing the clause — not a wording fixed in the email templates."""

from __future__ import annotations

import pytest

from activities.notifications import NotificationTemplates
from returns.policy.decision import Party
from returns.policy.engine import decide
from tests.notifications.support import customer_notification

from .builders import fine_jewelry_request, opalook_request, pearl_platform_request

TEMPLATES = NotificationTemplates()


def test_fine_jewelry_failed_inspection_is_shipped_back_at_the_customers_cost(fine):
    """004 §3.7: "the product will be shipped back to you as is, with the secondary shipping cost
    borne by you"."""
    decision = decide(fine, fine_jewelry_request())
    assert decision.inspection_failed_shipping_paid_by == Party.customer
    assert decision.inspection_failed_shipping == (
        "Items that fail inspection are refused and shipped back to you as they are, with the "
        "secondary shipping cost borne by you (004 §3.7).")


def test_pearl_platform_failed_inspection_round_trip_is_the_consumers(pearl):
    """003 §III.4: "returned with an explanation, and the round-trip freight shall be borne by the
    consumer"."""
    decision = decide(pearl, pearl_platform_request())
    assert decision.inspection_failed_shipping_paid_by == Party.customer
    assert decision.inspection_failed_shipping.endswith("the round-trip freight is borne by you "
                                                        "(003 §III.4).")


def test_opalook_failed_inspection_is_a_merchant_default_from_000_3_3(opalook):
    """Seed 000 is silent; 000 §3.3 makes shipping Opalook's only for a non-compliant product and
    000 §2.1 excludes the buyer's negligence: the buyer pays (merchant default, docs)."""
    decision = decide(opalook, opalook_request())
    assert decision.inspection_failed_shipping_paid_by == Party.customer
    sentence = decision.inspection_failed_shipping
    assert sentence.startswith("Opalook pays shipping only for non-compliant products")
    assert sentence.endswith("(merchant default, not in seed (000 §3.3, §2.1)).")


def test_nobody_cannot_pay_for_a_parcel_that_travels(fine):
    """[inspection_failed].paid_by names who pays: the items do travel back."""
    with pytest.raises(ValueError, match="say who pays"):
        type(fine.inspection_failed).model_validate(
            {"paid_by": "nobody", "clause": "004 §3.7", "text": "x"})


@pytest.mark.parametrize("locale, fixed_wording", [
    ("en", "at your cost"), ("fr", "à votre charge"), ("zh", "由您承担")])
def test_the_emails_say_the_cost_in_the_customers_words(fine, locale, fixed_wording):
    """The inspection-failed email has no cost sentence of its own in any locale; what the
    customer pays to get the items back (004 §3.7) reaches them as what is owed, in their words
    (returns/customer_words.py), never as the policy's English sentence with its clause."""
    from returns import customer_words
    sentence = decide(fine, fine_jewelry_request()).inspection_failed_shipping
    owed = customer_words.text(locale, "owed_quoted")
    bare = TEMPLATES.render(customer_notification("inspection_failed", locale=locale, message=None,
                                                  owed_amount=None, owed_quoted=False))
    assert fixed_wording not in bare.text and fixed_wording not in bare.html
    assert owed not in bare.text
    told = TEMPLATES.render(customer_notification(
        "inspection_failed", locale=locale, owed_amount=None, owed_quoted=True,
        message=f"Gold ring: worn, scratches on the band\n\n{sentence}"))
    assert owed in told.text and owed in told.html
    assert sentence not in told.text and "§" not in told.text and "scratches" not in told.text

"""Every template renders, for every kind of data the workflow sends, and reads correctly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import NotificationItem
from activities.mail import MaildirOutbox
from activities.customer_email import NO_PARCEL_COMING, for_customer
from activities.notifications import (
    TEMPLATE_AUDIENCE,
    TEMPLATE_ERROR,
    TEMPLATE_NAMES,
    TEMPLATES_DIR,
    NotificationActivities,
    NotificationTemplates,
    plain_reason,
)

from .support import MERCHANT, SUPPORT, customer_notification, minimal_notification, staff_notification

TEMPLATES = NotificationTemplates()

DATA_SETS = {
    "customer": lambda name: customer_notification(name, audience="customer"),
    "customer-minimal": lambda name: minimal_notification(name, "customer"),
    "customer-returnless": lambda name: customer_notification(name, items=[
        NotificationItem(title="Silver ring", quantity=2, resolution="returnless_refund",
                         refund="40.00 EUR")]),
    "staff": lambda name: staff_notification(name),
    "staff-minimal": lambda name: minimal_notification(name, "staff"),
}


def test_the_template_folder_holds_exactly_the_listed_templates():
    en = TEMPLATES_DIR / "en"
    names = {p.name.removesuffix(".subject.txt") for p in en.glob("*.subject.txt")}
    assert names == set(TEMPLATE_NAMES)
    for name in TEMPLATE_NAMES:
        for ext in (".subject.txt", ".txt", ".html"):
            assert (en / f"{name}{ext}").is_file(), f"{name}{ext} is missing"
    assert len(TEMPLATE_NAMES) == 25  # deadline_extended: 003 §III.4 "notified separately";
    # payment_requested: what the customer owes before a shipment (issue 18 point 2);
    # repaired: the repaired item shipped back (the workflow sent it and found no template)


@pytest.mark.parametrize("data", sorted(DATA_SETS))
@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_renders_and_names_the_merchant_return_order_and_support(name, data):
    n = DATA_SETS[data](name)
    r = TEMPLATES.render(n)

    assert r.subject and "\n" not in r.subject and len(r.subject) < 140
    assert n.return_id in r.subject
    facts = [n.merchant_name, n.return_id, n.order_id, n.merchant_support_email]
    if n.merchant_return_address and (TEMPLATE_AUDIENCE.get(name) != "customer"
                                      or name not in NO_PARCEL_COMING):
        # the return address in the footer, except where no parcel is to come (a rejection,
        # the end: it would read as an invitation to send)
        facts.append(n.merchant_return_address.line1)
    for part in (r.text, r.html):
        for fact in facts:
            assert fact in part, f"{name}/{data}: {fact!r} missing"
        # a None that leaked into the text would read "None" to the customer
        assert "None" not in part
    assert r.html.lstrip().startswith("<!DOCTYPE html>") and r.html.rstrip().endswith("</html>")
    assert "\n\n\n" not in r.text
    greeting = f"Hello {MERCHANT} team," if n.audience == "staff" else f"Hello {n.customer_name},"
    assert greeting in r.text and greeting in r.html


# The optional fields each template shows when the workflow sets them (besides the merchant, the
# return, the order, the support contact, the return address and the items).
SHOWS = {
    "request_received": {"deadline"},
    "review_needed": {"message", "deadline", "refund_total"},
    "info_requested": {"message", "deadline"},
    "approved": {"message", "deadline", "refund_total"},
    "rejected": {"message"},
    "ship_by_reminder": {"deadline"},
    "expired": {"deadline"},
    "parcel_in_transit": {"tracking", "deadline"},
    "received": {"message", "deadline"},
    "receipt_problem": {"message"},
    "inspection_passed": {"message", "deadline", "refund_total"},  # message: what is owed (004 §4.4)
    "inspection_failed": {"message", "tracking"},
    "escalation": {"message", "deadline", "refund_total"},
    "action_needed": {"message", "deadline"},
    "refund_issued": {"message", "refund_total"},
    "refund_failed": {"message", "deadline", "refund_total"},
    "exchange_shipping": {"message", "tracking"},
    "repair_started": {"message", "deadline"},
    "deadline_extended": {"message", "deadline"},
    "returned_to_customer": {"message", "tracking"},
    "withdrawn": set(),
    "cancelled": {"message"},
    "closed": {"message", "refund_total", "tracking"},
    "payment_requested": {"message"},
    "repaired": {"message", "tracking"},  # and payment_url (tests/notifications/test_payment_requested.py)
}


def test_every_template_says_which_fields_it_shows():
    assert set(SHOWS) == set(TEMPLATE_NAMES)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_the_optional_fields_given_are_shown(name):
    # a total no item shows, so finding it means the template printed refund_total
    n = DATA_SETS[TEMPLATE_AUDIENCE[name]](name).model_copy(update={
        "refund_total": "987.65 EUR", "refund_total_amount": 98765})
    r = TEMPLATES.render(n)
    shown = for_customer(n) if n.audience == "customer" else n  # the customer's words
    expected = {
        "message": shown.message.splitlines()[0],
        "deadline": n.deadline,
        "refund_total": shown.refund_total,
        "tracking": n.tracking,
    }
    for field_name, value in expected.items():
        if field_name in SHOWS[name]:
            assert value in r.text and value in r.html, f"{name} should show {field_name}"
        else:
            assert value not in r.text, f"{name} shows {field_name}: add it to SHOWS"
    if "message" in SHOWS[name] and "\n" in shown.message.strip():
        assert "<br>" in r.html  # the message's line break survived into HTML


def test_customer_reasons_are_customer_words_without_rule_codes_or_clauses():
    """The policy's reasons cite clauses for staff; the customer reads what the decision means
    for them (returns/customer_words.py), the same words as the return page."""
    r = TEMPLATES.render(customer_notification("approved"))
    for part in (r.text, r.html):
        assert "§" not in part and "003" not in part
        assert "Non-customised pearl jewellery" not in part  # the policy's staff wording
    assert ("This item is outside the conditions of our returns policy. If you think this is a "
            f"mistake, write to {SUPPORT}.") in r.text
    assert "this is what we can do instead" in r.text


@pytest.mark.parametrize("raw, plain", [
    ("004 §2.2: returns within 15 calendar days of signature",
     "Returns within 15 calendar days of signature (004 §2.2)."),
    ("§4.1: 30% restocking fee.", "30% restocking fee (§4.1)."),
    ("000 guarantee: limited to the price excluding tax",
     "Limited to the price excluding tax (000 guarantee)."),
    ("the parcel arrived open", "The parcel arrived open."),
    ("004 §4.1: non-quality return: 30% of the order amount deducted",
     "Non-quality return: 30% of the order amount deducted (004 §4.1)."),
    ("000 §1.3, §2.2: refund without return", "Refund without return (000 §1.3, §2.2)."),
    ("staff override by alice: fee waived (restocking)",
     "Fee waived (restocking) (staff override by alice)."),
    ("Already a sentence (003 §II).", "Already a sentence (003 §II)."),
    ("merchant default, not in seed: please send us: photos of the product",
     "Please send us: photos of the product (our policy)."),
])
def test_plain_reason(raw, plain):
    assert plain_reason(raw) == plain


def test_approved_with_a_label_tells_how_to_send_and_where():
    r = TEMPLATES.render(customer_notification("approved", label_path="/labels/RMA-R-1001.pdf"))
    assert "Print the attached return label" in r.text
    assert "11 rue Alix" in r.text and "93600 Aulnay-sous-Bois" in r.text
    assert "by Tuesday 24 November 2026" in r.text
    assert "Refund: €180.00" in r.text
    assert "Fee: inspection fee, €20.00" in r.text
    assert "Not part of this return" in r.text and "Engraved bangle" in r.text
    assert "You don't need to send anything back" not in r.text


def test_approved_without_a_label_asks_for_a_note_with_the_return_number():
    r = TEMPLATES.render(customer_notification("approved", label_path=None))
    assert "attached" not in r.text and "attached" not in r.html
    assert "Put a note with your return number R-1001" in r.text


def test_returnless_refund_says_there_is_nothing_to_send():
    r = TEMPLATES.render(DATA_SETS["customer-returnless"]("approved"))
    assert "You don't need to send anything back" in r.text
    assert "You don't need to send anything back" in r.html
    # no return address block (the footer's one-line address is in every message)
    assert "How to send" not in r.text and "    11 rue Alix" not in r.text
    assert "keep the items" in r.text


def test_mixed_return_says_what_to_keep_and_what_to_send():
    n = customer_notification("approved", items=[
        NotificationItem(title="Pearl necklace", quantity=1, resolution="refund", refund="180.00 EUR"),
        NotificationItem(title="Silver ring", quantity=1, resolution="returnless_refund", refund="9.00 EUR"),
    ])
    r = TEMPLATES.render(n)
    assert "You can keep: 1 × Silver ring. Don't send it back." in r.text
    assert "Pack only these items: 1 × Pearl necklace." in r.text


def test_html_is_escaped_and_text_is_not():
    n = customer_notification("info_requested", customer_name="Camille <b>Dupont</b> & Co",
                              message="Is the <clasp> bent?")
    r = TEMPLATES.render(n)
    assert "Camille &lt;b&gt;Dupont&lt;/b&gt; &amp; Co" in r.html and "<b>Dupont" not in r.html
    assert "Is the &lt;clasp&gt; bent?" in r.html
    assert "Hello Camille <b>Dupont</b> & Co," in r.text


def test_staff_review_shows_eligibility_reasons_and_review_points():
    r = TEMPLATES.render(staff_notification("review_needed"))
    assert "[eligible]" in r.text and "[NOT eligible]" in r.text
    assert "Engraved, exchange only (003 §IV.1)." in r.text
    assert "Certificate number must match the outbound record" in r.text
    assert "return-R-1001" in r.text and "return-R-1001" in r.html
    assert r.subject.startswith("[Review] Return R-1001")


def test_refund_failed_tells_staff_both_ways_out():
    r = TEMPLATES.render(staff_notification("refund_failed", message="card_expired"))
    assert "retry_refund" in r.text and "record_manual_refund" in r.text
    assert "card_expired" in r.html


def test_received_lists_what_arrived_and_what_is_missing():
    n = customer_notification("received", items=[
        NotificationItem(title="Akoya pearl necklace", quantity=1, resolution="refund"),
        NotificationItem(title="Freshwater pearl studs", quantity=2, resolution="refund",
                         missing=1)],
        message="Not received yet: Freshwater pearl studs x1. The refund covers what arrived.")
    r = TEMPLATES.render(n)
    assert "- 1 × Akoya pearl necklace" in r.text
    assert "Not everything has arrived yet" in r.text and "Freshwater pearl studs × 1" in r.text
    assert "Not received yet" not in r.text  # the workflow's English for the audit


def test_locale_picks_its_folder_and_falls_back_to_english(tmp_path: Path):
    shutil.copytree(TEMPLATES_DIR / "en", tmp_path / "en")  # the mechanism, with a partial fr/
    fr = tmp_path / "fr"
    fr.mkdir()
    (fr / "withdrawn.subject.txt").write_text("{{ merchant_name }} : retour {{ return_id }} annulé")
    (fr / "withdrawn.txt").write_text("Bonjour {{ customer_name }}, retour {{ return_id }}.")
    (fr / "withdrawn.html").write_text("<p>Bonjour {{ customer_name }}</p>")
    templates = NotificationTemplates(tmp_path)

    fr_fr = templates.render(customer_notification("withdrawn", locale="fr-FR"))
    assert fr_fr.locale == "fr" and fr_fr.subject == f"{MERCHANT} : retour R-1001 annulé"
    # no French `approved` yet: English
    assert templates.render(customer_notification("approved", locale="fr")).locale == "en"
    assert templates.render(customer_notification("withdrawn", locale="zh-CN")).locale == "en"
    # a locale or a template name is never a path
    assert templates.render(customer_notification("withdrawn", locale="../fr")).locale == "en"
    assert templates.locale_for("../en/withdrawn", "en") is None


async def test_a_broken_template_fails_the_activity_for_good_and_sends_nothing(tmp_path: Path):
    shutil.copytree(TEMPLATES_DIR, tmp_path / "templates")
    (tmp_path / "templates" / "en" / "withdrawn.txt").write_text("Hello {{ customer_nickname }}")
    outbox = tmp_path / "outbox"
    acts = NotificationActivities(MaildirOutbox(outbox), templates_dir=tmp_path / "templates")

    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(acts.send_notification, customer_notification("withdrawn"))
    assert err.value.type == TEMPLATE_ERROR and err.value.non_retryable
    assert "customer_nickname" in str(err.value)
    assert not any((outbox / "new").glob("*"))


async def test_unknown_template_and_wrong_audience_are_refused(tmp_path: Path):
    acts = NotificationActivities(MaildirOutbox(tmp_path))
    env = ActivityEnvironment()
    with pytest.raises(ApplicationError) as err:
        await env.run(acts.send_notification, customer_notification("parcel_lost"))
    assert err.value.type == TEMPLATE_ERROR and err.value.non_retryable
    # staff review points must never reach a customer
    with pytest.raises(ApplicationError) as err:
        await env.run(acts.send_notification,
                      staff_notification("review_needed", audience="customer", to=SUPPORT))
    assert err.value.type == TEMPLATE_ERROR and "written for staff" in str(err.value)
    assert not any((tmp_path / "new").glob("*"))


@pytest.mark.parametrize("locale, must", [("en", "must use the original packaging"),
                                          ("fr", "devez utiliser l’emballage d’origine"),
                                          ("zh", "必须使用原包装")])
def test_the_approval_says_must_where_the_policy_requires_the_original_packaging(locale, must):
    """003 §III.3 "the original packaging must be used", 004 §2.3 "must be complete and intact":
    the approval email says "must", because the policy requires it, without the staff's clause
    number (issue 16); a policy that does not require it (000) keeps "if you can"."""
    required = TEMPLATES.render(customer_notification("approved", locale=locale,
                                                      packaging_clause="004 §2.3"))
    for body in (" ".join(required.text.split()), required.html):
        assert must in body and "004 §2.3" not in body
    optional = TEMPLATES.render(customer_notification("approved", locale=locale))
    assert must not in optional.text and "004 §2.3" not in optional.text

"""The one catalogue of customer wording (returns/customer_words.py), shared by the emails and the
return page: every code the policies can produce has a customer text in en, fr and zh, and no
customer text carries a rule code, a clause or a placeholder (issue 16 point 4)."""

from __future__ import annotations

import itertools
import re
import string
from pathlib import Path

import pytest

from activities.contracts import Notification
from activities.customer_email import for_customer
from activities.notifications import TEMPLATE_AUDIENCE, NotificationTemplates
from customer_page import words as page_words
from returns import customer_words as cw
from returns.events import EvidenceKind, Resolution, ReturnReason
from returns.policy.decision import FeeKind, Party
from returns.policy.engine import decide
from returns.policy.registry import PolicyRegistry
from returns.allowed import Action, Now, refusal
from returns.status import DeadlineKind, ReturnState
from samples.events import item, line, return_requested

from .support import customer_notification

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = PolicyRegistry.load(ROOT / "policies")
CUSTOMER_TEMPLATES = [n for n, a in TEMPLATE_AUDIENCE.items() if a == "customer"]

# What staff wording looks like: a clause ("§", "004 §2.2"), a seed number, a rule code
# ("changed_mind", "not_as_described"), the policy's bookkeeping, a placeholder.
STAFF_MARKERS = re.compile(r"§|\b00\d\b|\b[a-z]+_[a-z_]+\b|merchant default|not in seed|placeholder"
                           r"|staff override|quality issue|please upload", re.I)
FIELDS = {"email", "evidence", "amount", "what", "fee", "title", "quantity", "carrier",
          "tracking_number", "date"}
VALUES = dict(email="help@shop.example", evidence="photos", amount="€1.00", what="x", fee="fee",
              title="Ring", quantity=1, carrier="UPS", tracking_number="1Z999AA10123456784",
              date="24 November 2026")


def test_every_language_has_the_same_words():
    keys = set(cw.WORDS["en"])
    for language in cw.LANGUAGES:
        assert set(cw.WORDS[language]) == keys, language


# Every code the domain has, so a new enum value without customer words fails here.
DOMAIN_CODES = {
    "why": {r.value for r in cw.CustomerReason},
    "res": {r.value for r in Resolution} | {"declined", "pending"},
    "evidence": {k.value for k in EvidenceKind},
    "fee": {k.value for k in FeeKind},
    "shipping_paid_by": {p.value for p in Party},
    "deadline": {k.value for k in DeadlineKind},
    # every state in which staff ship to the customer next (ship_to_customer)
    "shipped": {s.value for s in ReturnState
                if refusal(Action.ship_to_customer, Now(state=s)) is None},
    "ended": {ReturnState.withdrawn.value, ReturnState.cancelled.value},
}


@pytest.mark.parametrize("language", cw.LANGUAGES)
@pytest.mark.parametrize("family", sorted(DOMAIN_CODES))
def test_every_code_has_a_customer_text_in_every_language(family, language):
    assert set(cw.CODES[family]) == DOMAIN_CODES[family]
    for code in DOMAIN_CODES[family]:
        text = cw.WORDS[language].get(f"{family}_{code}")
        assert text and text.strip(), f"{family}_{code} has no {language} text"


@pytest.mark.parametrize("language", cw.LANGUAGES)
def test_no_customer_text_carries_a_rule_code_a_clause_or_a_placeholder(language):
    for key, text in cw.WORDS[language].items():
        used = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        assert used <= FIELDS, f"{language} {key}: unknown field {used - FIELDS}"
        rendered = text.format(**VALUES)
        assert not STAFF_MARKERS.search(rendered), f"{language} {key}: {rendered!r}"
        assert "{" not in rendered and "}" not in rendered, f"{language} {key}"
        if language != "en":  # no English left in a French or Chinese text
            bare = re.sub(r"\{[a-z_]+\}", "", text)
            assert text != cw.WORDS["en"][key] or not re.search(r"[a-z]{4,}", bare), key


def test_amounts_are_written_as_each_language_writes_them():
    assert cw.money(20750, "EUR", "en") == "€207.50"
    assert re.fullmatch(r"207,50[\u00a0\u202f ]€", cw.money(20750, "EUR", "fr"))
    assert cw.money(20750, "EUR", "zh") == "€207.50"
    assert cw.money(20750, "EUR", "fr-FR") == cw.money(20750, "EUR", "fr")
    assert cw.money(2075, "JPY", "en") == "¥2,075"  # no minor unit


def test_the_page_and_the_emails_share_the_words():
    """One place: the page's tables hold the catalogue's words unchanged."""
    for language in cw.LANGUAGES:
        for key, text in cw.WORDS[language].items():
            assert page_words.WORDS[language][key] == text, (language, key)


def _requests():
    """Requests across every merchant, reason, resolution and buyer the policies know."""
    for merchant, reason, resolution, buyer, days in itertools.product(
            REGISTRY.merchant_ids, list(ReturnReason), ["refund", "exchange", "repair"],
            ["consumer", "business"], [3, 40]):
        lines = [line("L1", engraved=True), line("L2", title="Pearl studs")]
        extra = {"exchange_for": "size 54"} if resolution == "exchange" else {}
        yield return_requested(merchant, customer_type=buyer, delivered_days_ago=days, lines=lines,
                               items=[item("L1", reason=reason.value, resolution=resolution,
                                           **extra),
                                      item("L2", reason=reason.value, resolution=resolution,
                                           evidence=(), **extra)])


def test_every_decision_the_policies_produce_reads_in_customer_words():
    """The policy engine over every merchant x reason x resolution x buyer x window: each item's
    decision, reasons, fees and shipping read in the three languages, without staff wording."""
    seen: set[str] = set()
    for request in _requests():
        decision = decide(REGISTRY.get(request.merchant_id), request)
        for i in decision.items:
            for language, deciding in itertools.product(cw.LANGUAGES, (True, False)):
                resolution = i.resolution.value if i.resolution else None
                codes = cw.reasons_for(eligible=i.eligible, resolution=resolution,
                                       resolution_changed=i.resolution_reason is not None,
                                       evidence_missing=[k.value for k in i.evidence_missing],
                                       deciding=deciding)
                seen.update(c.value for c in codes)
                texts = cw.item_reasons(
                    language, eligible=i.eligible, resolution=resolution,
                    resolution_changed=i.resolution_reason is not None,
                    evidence_missing=[k.value for k in i.evidence_missing], deciding=deciding,
                    support_email="help@shop.example")
                texts.append(cw.decision_label(language, eligible=i.eligible,
                                               resolution=resolution, deciding=deciding))
                texts += [cw.fee_line(f.kind.value, f.amount, decision.currency, language)
                          for f in i.fees]
                texts.append(cw.shipping_paid_by(i.return_shipping_paid_by.value, language))
                for text in texts:
                    assert text and not STAFF_MARKERS.search(text), (language, text)
    assert seen == {r.value for r in cw.CustomerReason}  # every reason occurs somewhere


@pytest.mark.parametrize("language", ["fr", "zh"])
@pytest.mark.parametrize("template", CUSTOMER_TEMPLATES)
def test_no_english_and_no_staff_wording_in_a_french_or_chinese_email(template, language):
    """Every customer template, with the policy's staff reasons and English notes the workflow
    sends: the customer reads none of them."""
    n = customer_notification(template, locale=language, deadline=None,
                              deadline_at=None, message=None if template not in (
                                  "received", "inspection_passed", "inspection_failed",
                                  "deadline_extended") else "Not received yet: 004 §2.2")
    rendered = NotificationTemplates().render(n)
    for part in (rendered.subject, rendered.text):
        assert not STAFF_MARKERS.search(part), (template, STAFF_MARKERS.search(part))
        assert "180.00 EUR" not in part  # amounts as the language writes them
        assert "。." not in part  # a Chinese sentence ends once
        # English words: the items' titles and names are the customer's own data
        own = {"Akoya", "pearl", "necklace", "Freshwater", "studs", "Engraved", "bangle", "Camille",
               "Dupont", "Maison", "Perle", "Alix", "Aulnay", "Bois", "service", "maison", "perle",
               "example", "rue", "customer", "sous"}
        words = set(re.findall(r"[A-Za-z]{4,}", part)) - own
        if language == "zh":
            assert not words, (template, words)
        else:
            english = {"the", "your", "with", "return", "refund", "send", "items", "please",
                       "will", "have", "order", "that", "this"}
            assert not {w.lower() for w in words} & english - {"return"}, (template, words)


def test_older_notifications_show_no_staff_reasons_to_a_customer():
    """A notification from a return started before the catalogue (no facts, no currency): its
    customer reads the decision's gist, never the policy's clause text."""
    n = Notification.model_validate({**customer_notification("approved").model_dump(),
                                     "currency": None, "refund_total_amount": None})
    shown = for_customer(n)
    for i in shown.items:
        assert all("§" not in r for r in i.reasons) and i.fees == []


@pytest.mark.parametrize("template", ["rejected", "withdrawn", "cancelled", "expired", "closed"])
def test_an_email_after_which_nothing_is_to_be_sent_shows_no_return_address(template):
    """A rejection says not to send anything: a return address under it would read as an
    invitation to send (found in the new-user walkthrough); the approval keeps it."""
    for language in ("en", "fr"):
        n = customer_notification(template, locale=language, deadline=None, deadline_at=None)
        assert n.merchant_return_address is not None
        assert for_customer(n).merchant_return_address is None
    approved = customer_notification("approved")
    assert for_customer(approved).merchant_return_address is not None


@pytest.mark.parametrize("language", cw.LANGUAGES)
def test_the_shipment_to_the_customer_names_its_carrier_and_tracking_number(language):
    for state in cw.CODES["shipped"]:
        said = cw.shipped(state, "La Poste", "6A12345678901", language)
        assert "La Poste" in said and "6A12345678901" in said, (state, language)
    assert len({cw.shipped(s, "UPS", "1Z9", language) for s in cw.CODES["shipped"]}) == 3
    for state in cw.CODES["ended"]:
        assert "24 novembre 2026" in cw.ended(state, "24 novembre 2026", language)

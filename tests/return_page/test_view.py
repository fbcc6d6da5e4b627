"""What the customer sees, built from a status (pure): customer words only, dates and amounts in
their language, the timeline of a return that ended early."""

from __future__ import annotations

from datetime import datetime, timezone

from customer_page import view, words
from returns.events import Address
from returns.policy.decision import Fee, FeeKind, MerchantContact, Party, Reason
from returns.status import AuditEntry, ItemStatus, ReturnState, ReturnStatus

AT = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)
CONTACT = MerchantContact(name="Maison Perle", support_email="help@perle.example",
                          staff_email="staff@perle.example",
                          return_address=Address(line1="11 rue Alix", city="Aulnay-sous-Bois",
                                                 postal_code="93600", country="FR"))
CLAUSE = Reason(clause="004 §2.2", text="Changed_mind is not a quality issue for item L2")


def status(state: ReturnState, *transitions: str) -> ReturnStatus:
    return ReturnStatus(
        return_id="R-1", merchant_id="maison-perle", order_id="O-1", state=state,
        currency="EUR", refund_total=11_550, fees_total=1_000, requested_at=AT,
        items=[
            ItemStatus(line_id="L1", sku="S1", title="Collier", quantity_requested=1,
                       eligible=True, resolution="refund", refund_amount=11_550,
                       return_shipping_paid_by=Party.customer, reasons=[CLAUSE],
                       fees=[Fee(kind=FeeKind.restocking, amount=1_000, reason=CLAUSE)]),
            ItemStatus(line_id="L2", sku="S2", title="Bague", quantity_requested=1,
                       eligible=False, resolution=None, reasons=[CLAUSE],
                       staff_review_points=["check the engraving"]),
        ],
        audit=[AuditEntry(at=AT, actor="system", action="state", detail=t) for t in transitions])


def text_of(v: view.CustomerView) -> str:
    return repr(v)


def test_customers_read_their_words_never_rule_codes_or_staff_notes():
    v = view.build(status(ReturnState.awaiting_shipment, "requested -> under_review",
                          "under_review -> approved", "approved -> awaiting_shipment"),
                   CONTACT, "Europe/Paris", "fr")
    seen = text_of(v)
    assert "§" not in seen and "Changed_mind" not in seen and "engraving" not in seen
    [kept, declined] = v.items
    assert kept.decision == "Remboursement" and kept.refund.replace("\xa0", " ") == "115,50 €"
    assert declined.decision == "Non accepté"
    assert "help@perle.example" in declined.reasons[0]
    assert v.shipping == "Les frais de retour sont à votre charge."
    assert v.can_give_tracking and v.can_withdraw and v.has_label is False
    assert [s.done for s in v.steps[:2]] == [True, True]
    assert v.steps[1].date == "mardi 24 novembre 2026 à 10:30 (Europe/Paris)"


def test_a_return_that_ended_early_ends_its_timeline_there():
    v = view.build(status(ReturnState.withdrawn, "requested -> under_review",
                          "under_review -> withdrawn"), CONTACT, "Europe/Paris", "zh")
    assert [s.label for s in v.steps] == ["已收到退货申请", "已撤回"]
    assert all(s.done for s in v.steps)
    assert not v.can_withdraw and not v.can_give_tracking and v.final
    assert v.next_action == "您的退货已撤回。"


def test_the_open_question_and_the_answers_in_the_customers_language():
    from returns.customer_answers import CustomerAnswer, OpenQuestion

    st = status(ReturnState.under_review, "requested -> under_review")
    st.open_question = OpenQuestion(number=2, question="Le fermoir est-il cassé ?", asked_at=AT,
                                    asked_by="sam")
    st.customer_answers = [CustomerAnswer(question="Quelle taille ?", answer="54",
                                          answered_at=AT, question_number=1)]
    from returns.status import Deadline, DeadlineKind

    st.deadlines = [Deadline(kind=DeadlineKind.review, due_at=AT, basis="2 business days",
                             paused_since=AT)]
    v = view.build(st, CONTACT, "Europe/Paris", "fr")
    assert v.question == "Le fermoir est-il cassé ?" and v.question_number == 2
    assert v.steps[1].label == "Retour accepté" and v.steps[1].date is None  # clock paused
    assert v.next_action.startswith("Nous avons une question pour vous")
    [answer] = v.answers
    assert (answer.question, answer.answer) == ("Quelle taille ?", "54")
    assert answer.date == "mardi 24 novembre 2026 à 10:30 (Europe/Paris)"
    # Answered: thanks, no form; once the review is over, an open question is not shown.
    st.open_question = None
    assert view.build(st, CONTACT, "Europe/Paris", "zh").next_action == "感谢您的回答：我们正在完成对您退货的审核。"
    st.open_question = OpenQuestion(number=3, question="?", asked_at=AT, asked_by="sam")
    st.state = ReturnState.approved
    assert view.build(st, CONTACT, "Europe/Paris", "en").question is None


def test_a_refunded_return_reads_closed_not_still_to_come():
    """A return that ends refunded (or exchanged) has an outcome but no final state: the page
    says it is closed, not "nothing for now", and no longer promises a refund "once the items
    have reached us" nor offers the label."""
    from returns.status import LabelInfo

    st = status(ReturnState.refunded, "requested -> under_review", "under_review -> approved",
                "approved -> awaiting_shipment", "awaiting_shipment -> in_transit",
                "in_transit -> received", "received -> inspecting", "inspecting -> refunding",
                "refunding -> refunded")
    st.outcome = "refunded"
    st.label = LabelInfo(rma_number="RMA-R-1", barcode_value="RMA-R-1", path="/x.pdf", sha256="0" * 64)
    for language, closed in (("en", "This return is closed."), ("fr", "Ce retour est clôturé."),
                             ("zh", "此退货已结束。")):
        v = view.build(st, CONTACT, "Europe/Paris", language)
        assert v.final and v.next_action == closed
        assert not v.has_label and v.shipping is None and v.return_address is not None
    open_one = view.build(status(ReturnState.refunding, "inspecting -> refunding"), CONTACT,
                          "Europe/Paris", "en")
    assert not open_one.final and open_one.next_action != "This return is closed."


def test_an_item_that_failed_the_inspection_says_so_not_refund():
    """Found trying the demo: after a failed inspection the page still read "Refund" beside the
    item, while the email said it is sent back without a refund."""
    from returns.status import InspectionResult

    st = status(ReturnState.returning_to_customer, "inspecting -> returning_to_customer")
    st.items[0].inspection = InspectionResult.failed
    for language, word in (("en", "Did not pass our check"), ("fr", "N’a pas passé le contrôle"),
                           ("zh", "未通过检验")):
        failed = view.build(st, CONTACT, "Europe/Paris", language).items[0]
        assert failed.decision == word and failed.refund is None
        assert len(failed.reasons) == 1 and "§" not in failed.reasons[0]


def test_what_to_do_when_something_is_owed_before_we_ship():
    """Found trying the demo: the item failed the inspection, the customer owes the cost of
    sending it back, and the page said "Nothing for now"."""
    st = status(ReturnState.returning_to_customer, "inspecting -> returning_to_customer")
    st.customer_owes = "To pay before we ship: the cost of shipping back (004 §3.7)"
    for language in ("en", "fr", "zh"):
        v = view.build(st, CONTACT, "Europe/Paris", language)
        assert v.next_action == view.words.WORDS[language]["owed_next"]
        assert "§" not in v.next_action
    st.customer_owes = None
    assert view.build(st, CONTACT, "Europe/Paris", "en").next_action.startswith("Nothing for now")


def test_the_label_is_offered_until_the_parcel_is_in():
    from returns.status import LabelInfo, ReceiptLog

    st = status(ReturnState.in_transit, "awaiting_shipment -> in_transit")
    st.label = LabelInfo(rma_number="RMA-R-1", barcode_value="RMA-R-1", path="/x.pdf",
                         sha256="0" * 64)
    assert view.build(st, CONTACT, "Europe/Paris", "en").has_label
    st.state = ReturnState.returning_to_customer
    st.receipts = [ReceiptLog.model_construct(outcome=view.ReceiptOutcome.recorded)]
    assert not view.build(st, CONTACT, "Europe/Paris", "en").has_label


def test_an_item_the_policy_would_refuse_reads_being_reviewed_until_staff_decide():
    """While staff review, they may still accept an item as an exception: the customer reads
    "being reviewed", not "not accepted" (found in the new-user walkthrough); once rejected,
    the item says it was not accepted."""
    reviewing = view.build(status(ReturnState.under_review), None, None, "fr")
    bague = next(i for i in reviewing.items if i.title == "Bague")
    assert bague.decision == words.WORDS["fr"]["res_pending"] and bague.reasons == []
    rejected = view.build(status(ReturnState.rejected), None, None, "fr")
    bague = next(i for i in rejected.items if i.title == "Bague")
    assert bague.decision == words.WORDS["fr"]["res_declined"]


def test_what_staff_shipped_to_the_customer_shows_its_carrier_and_tracking_number():
    """The replacement, the repaired item or the item sent back: the ship_to_customer payload's
    carrier and tracking number, in the customer's words, worded by what was shipped."""
    from returns.status import ShipmentToCustomer

    ups = ShipmentToCustomer(carrier="UPS", tracking_number="1Z999AA10123456784")
    cases = [
        ("inspecting -> exchange_shipping", "exchange_shipping -> exchanged", ReturnState.exchanged,
         {"en": "Your replacement is on its way with UPS. Tracking number: 1Z999AA10123456784.",
          "fr": "Votre article de remplacement est en route, avec UPS. Numéro de suivi : "
                "1Z999AA10123456784.",
          "zh": "您的换货商品已通过 UPS 寄出。快递单号：1Z999AA10123456784。"}),
        ("inspecting -> repairing", "repairing -> repaired", ReturnState.repaired,
         {"en": "Your repaired item is on its way back to you with UPS. Tracking number: "
                "1Z999AA10123456784."}),
        ("inspecting -> returning_to_customer", "returning_to_customer -> closed",
         ReturnState.closed,
         {"en": "Your item is on its way back to you with UPS. Tracking number: "
                "1Z999AA10123456784."}),
    ]
    for into, done, state, said in cases:
        waiting = status(into.split("-> ")[1], into)
        assert view.build(waiting, CONTACT, "Europe/Paris", "en").shipment is None  # not yet
        shipped = status(state, into, done)
        shipped.shipment_to_customer = ups
        for language, text in said.items():
            assert view.build(shipped, CONTACT, "Europe/Paris", language).shipment == text
    # A repair shipped, then an item refused at the inspection is sent back: the latest says.
    both = status(ReturnState.closed, "inspecting -> repairing", "repairing -> repaired",
                  "repaired -> returning_to_customer", "returning_to_customer -> closed")
    both.shipment_to_customer = ShipmentToCustomer(carrier="La Poste", tracking_number="6A1234")
    assert view.build(both, CONTACT, None, "en").shipment.startswith("Your item is on its way")


def test_a_withdrawn_or_cancelled_return_lists_no_decisions_and_says_when_it_ended():
    """Once withdrawn or cancelled nothing is decided any more: the page says how and when it
    ended, in the customer's words, and lists the items without decision, reason, refund or
    fee; the timeline and the support contact stay."""
    ended_at = datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc)
    for state, language, said in (
            (ReturnState.withdrawn, "en", "You withdrew this return on Thursday 26 November 2026"),
            (ReturnState.withdrawn, "fr", "Vous avez annulé ce retour le jeudi 26 novembre 2026"),
            (ReturnState.cancelled, "en", "This return was cancelled on Thursday 26 November 2026"),
            (ReturnState.cancelled, "zh", "此退货已于 2026年11月26日")):
        st = status(state, "requested -> under_review", "under_review -> approved")
        st.audit.append(AuditEntry(at=ended_at, actor="customer", action="state",
                                   detail=f"approved -> {state.value}"))
        v = view.build(st, CONTACT, "Europe/Paris", language)
        assert v.ended.startswith(said), v.ended
        assert [(i.title, i.quantity) for i in v.items] == [("Collier", 1), ("Bague", 1)]
        assert all(i.decision == "" and i.reasons == [] and i.refund is None and i.fees == []
                   for i in v.items)
        assert v.steps[-1].done and v.steps[-1].date and v.support
        assert v.final and not v.can_withdraw and v.return_address is not None  # not shown: final
    approved = view.build(status(ReturnState.approved, "under_review -> approved"), CONTACT,
                          "Europe/Paris", "en")
    assert approved.ended is None and approved.items[0].decision == "Refund"

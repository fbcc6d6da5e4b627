"""What a customer is told about their return, in their language (en, fr, zh): the one catalogue of
customer wording that the emails (activities/customer_email.py) and the return page
(customer_page/view.py) both use.

The policy engine's `Reason`s cite clauses and are written for staff and the audit trail ("004 §4.1:
non-quality return: 30% of the order amount deducted"); they never reach a customer. A customer
reads what the decision means for them, worded here from the decision's own facts: declined, a
different resolution than asked, nothing to send back, evidence still needed; fees by kind; who
pays the return shipping; which date moved. Amounts are formatted for the language ("207,50 €",
"€207.50"). No rule code, clause number or staff note is ever put into a customer text
(tests/notifications/test_customer_words.py enumerates every code and checks each language).

Pure: no Temporal, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from babel.numbers import format_currency, get_currency_precision

from returns.allowed import SHIPPING_BACK
from returns.events import EvidenceKind, Resolution
from returns.policy.decision import FeeKind, Party
from returns.status import DeadlineKind, ReturnState

if TYPE_CHECKING:  # returns.refund_itemised imports returns.status, as this module does
    from returns.refund_itemised import RefundItemised

LANGUAGES = ("en", "fr", "zh")
BABEL_LOCALE = {"en": "en", "fr": "fr_FR", "zh": "zh_Hans_CN"}


class CustomerReason(StrEnum):
    """Why an item's decision is what it is, as a customer is told it (one text per language)."""

    declined = "declined"  # not eligible under the policy
    resolution_changed = "resolution_changed"  # granted something else than asked
    returnless = "returnless"  # refunded without sending the item back
    evidence_missing = "evidence_missing"  # photos, certificate, ... needed to decide


def language_of(locale: str | None) -> str:
    """The catalogue's language for a customer locale: "fr-FR" -> "fr", "zh-CN" -> "zh";
    anything else English (as the email templates fall back)."""
    language = (locale or "").split("-")[0].split("_")[0].lower()
    return language if language in LANGUAGES else "en"


WORDS: dict[str, dict[str, str]] = {
    "en": {
        # decisions (the emails' items tables, the page's items)
        "res_refund": "Refund",
        "res_exchange": "Exchange",
        "res_repair": "Repair",
        "res_returnless_refund": "Refund, no need to send the item back",
        "res_declined": "Not accepted",
        "res_failed_inspection": "Did not pass our check",
        "res_pending": "Being reviewed",
        # why (CustomerReason)
        "why_declined": "This item is outside the conditions of our returns policy. If you think this is a mistake, write to {email}.",
        "why_resolution_changed": "We could not offer what you asked for this item; this is what we can do instead.",
        "why_returnless": "You do not need to send this item back: we refund it without a return.",
        "why_evidence_missing": "To decide, we need {evidence}: please add them on your return page, or send them to {email}.",
        "why_evidence_missing_upload": "To decide, we need {evidence}: please add them below.",
        # evidence (EvidenceKind)
        "evidence_photos": "photos or videos of the item",
        "evidence_original_packaging": "photos of the original packaging",
        "evidence_certificate": "the quality inspection certificate",
        "evidence_logistics_signature": "the carrier's delivery signature record",
        "evidence_damage_proof": "proof of the damage when the parcel was signed for",
        "evidence_courier_receipt": "the receipt for your return shipping",
        "list_sep": ", ",
        # fees (FeeKind)
        "fee_restocking": "restocking fee",
        "fee_personalisation": "personalisation fee",
        "fee_comparison_purchase": "fee for returning part of a multiple purchase",
        "fee_inspection": "inspection fee",
        "fee_line": "{fee}, {amount}",
        # return shipping (Party)
        "shipping_paid_by_merchant": "We pay the return shipping.",
        "shipping_paid_by_customer": "You pay the return shipping.",
        "shipping_paid_by_nobody": "There is nothing to send back.",
        # dates that can move (DeadlineKind), for "a date has moved"
        "deadline_review": "our review of your request",
        "deadline_ship_by": "the date by which to send your parcel: you have more time",
        "deadline_inspection": "our check of your items",
        "deadline_refund": "your refund",
        "deadline_reshipment": "shipping your exchange or repaired item",
        "deadline_moved": "The date that moved: {what}.",
        # money still owed before a shipment to the customer (004 §4.4, §4.5, §3.7)
        "owed_known": "Before we ship it, {amount} is to be paid. We will tell you how, and we ship once it is paid.",
        "owed_known_and_quoted": "Before we ship it, {amount} is to be paid, plus costs we will quote you. We will tell you how, and we ship once it is paid.",
        "owed_quoted": "Before we ship it, there are costs to pay, which we will quote you. We ship once they are paid.",
        # what has not arrived
        # what staff shipped to the customer (ship_to_customer), by the state it was shipped from
        "shipment_heading": "Sent to you",
        "shipped_exchange_shipping": "Your replacement is on its way with {carrier}. Tracking number: {tracking_number}.",
        "shipped_repairing": "Your repaired item is on its way back to you with {carrier}. Tracking number: {tracking_number}.",
        "shipped_returning_to_customer": "Your item is on its way back to you with {carrier}. Tracking number: {tracking_number}.",
        # a return that ended before its outcome: how and when
        "ended_withdrawn": "You withdrew this return on {date}.",
        "ended_cancelled": "This return was cancelled on {date}.",
        "units": "{title} × {quantity}",
        # a refund itemised when an inspection fee was deducted (returns/refund_itemised.py)
        "refund_line_amount": "{title} × {quantity}: {amount}",
        "refund_line_inspection_fee": "Inspection fee deducted: −{amount}",
        "refund_line_refunded": "Refunded for this item: {amount}",
        "refund_itemised_total": "Total refunded: {amount}",
    },
    "fr": {
        "res_refund": "Remboursement",
        "res_exchange": "Échange",
        "res_repair": "Réparation",
        "res_returnless_refund": "Remboursement, sans renvoi de l’article",
        "res_declined": "Non accepté",
        "res_failed_inspection": "N’a pas passé le contrôle",
        "res_pending": "En cours d’examen",
        "why_declined": "Cet article ne remplit pas les conditions de notre politique de retour. Si vous pensez qu’il s’agit d’une erreur, écrivez à {email}.",
        "why_resolution_changed": "Nous ne pouvons pas vous proposer ce que vous avez demandé pour cet article ; voici ce que nous pouvons faire.",
        "why_returnless": "Inutile de nous renvoyer cet article : nous le remboursons sans retour.",
        "why_evidence_missing": "Pour décider, nous avons besoin de : {evidence}. Merci de les ajouter sur la page de votre retour, ou de les envoyer à {email}.",
        "why_evidence_missing_upload": "Pour décider, nous avons besoin de : {evidence}. Merci de les ajouter ci-dessous.",
        "evidence_photos": "photos ou vidéos de l’article",
        "evidence_original_packaging": "photos de l’emballage d’origine",
        "evidence_certificate": "certificat de contrôle qualité",
        "evidence_logistics_signature": "preuve de signature à la livraison",
        "evidence_damage_proof": "preuve du dommage constaté à la réception du colis",
        "evidence_courier_receipt": "reçu de vos frais d’envoi du retour",
        "list_sep": ", ",
        "fee_restocking": "frais de remise en stock",
        "fee_personalisation": "frais de personnalisation",
        "fee_comparison_purchase": "frais de retour partiel d’un achat multiple",
        "fee_inspection": "frais de contrôle",
        "fee_line": "{fee}, {amount}",
        "shipping_paid_by_merchant": "Nous prenons en charge les frais de retour.",
        "shipping_paid_by_customer": "Les frais de retour sont à votre charge.",
        "shipping_paid_by_nobody": "Vous n’avez rien à nous renvoyer.",
        "deadline_review": "l’examen de votre demande",
        "deadline_ship_by": "la date limite d’envoi de votre colis : vous avez plus de temps",
        "deadline_inspection": "le contrôle de vos articles",
        "deadline_refund": "votre remboursement",
        "deadline_reshipment": "l’envoi de votre échange ou de votre article réparé",
        "deadline_moved": "La date qui change : {what}.",
        "owed_known": "Avant l’envoi, {amount} reste à régler. Nous vous dirons comment ; l’envoi part dès le paiement reçu.",
        "owed_known_and_quoted": "Avant l’envoi, {amount} reste à régler, plus des frais dont nous vous communiquerons le montant. Nous vous dirons comment ; l’envoi part dès le paiement reçu.",
        "owed_quoted": "Avant l’envoi, des frais restent à régler ; nous vous en communiquerons le montant. L’envoi part dès le paiement reçu.",
        "shipment_heading": "Notre envoi",
        "shipped_exchange_shipping": "Votre article de remplacement est en route, avec {carrier}. Numéro de suivi : {tracking_number}.",
        "shipped_repairing": "Votre article réparé vous est renvoyé, avec {carrier}. Numéro de suivi : {tracking_number}.",
        "shipped_returning_to_customer": "Votre article vous est renvoyé, avec {carrier}. Numéro de suivi : {tracking_number}.",
        "ended_withdrawn": "Vous avez annulé ce retour le {date}.",
        "ended_cancelled": "Ce retour a été annulé le {date}.",
        "units": "{title} × {quantity}",
        "refund_line_amount": "{title} × {quantity} : {amount}",
        "refund_line_inspection_fee": "Frais de contrôle déduits : −{amount}",
        "refund_line_refunded": "Remboursé pour cet article : {amount}",
        "refund_itemised_total": "Total remboursé : {amount}",
    },
    "zh": {
        "res_refund": "退款",
        "res_exchange": "换货",
        "res_repair": "维修",
        "res_returnless_refund": "退款，无需寄回",
        "res_declined": "未受理",
        "res_failed_inspection": "未通过检验",
        "res_pending": "审核中",
        "why_declined": "此商品不符合我们退货政策的条件。如您认为有误，请写信至 {email}。",
        "why_resolution_changed": "我们无法为此商品提供您所申请的处理方式；以下是我们可以提供的方式。",
        "why_returnless": "此商品无需寄回：我们直接为您退款。",
        "why_evidence_missing": "为了做出决定，我们需要：{evidence}。请在您的退货页面上传，或发送至 {email}。",
        "why_evidence_missing_upload": "为了做出决定，我们需要：{evidence}。请在下方上传。",
        "evidence_photos": "商品的照片或视频",
        "evidence_original_packaging": "原包装的照片",
        "evidence_certificate": "质检证书",
        "evidence_logistics_signature": "物流签收记录",
        "evidence_damage_proof": "签收时的破损证明",
        "evidence_courier_receipt": "退货运费收据",
        "list_sep": "、",
        "fee_restocking": "退货手续费",
        "fee_personalisation": "定制费",
        "fee_comparison_purchase": "多件购买部分退货费",
        "fee_inspection": "检验费",
        "fee_line": "{fee} {amount}",
        "shipping_paid_by_merchant": "退货运费由我们承担。",
        "shipping_paid_by_customer": "退货运费由您承担。",
        "shipping_paid_by_nobody": "您无需寄回任何商品。",
        "deadline_review": "我们对您申请的审核",
        "deadline_ship_by": "您寄出包裹的期限（您有更多时间）",
        "deadline_inspection": "我们对商品的检验",
        "deadline_refund": "您的退款",
        "deadline_reshipment": "换货或维修商品的寄出",
        "deadline_moved": "变更的日期：{what}。",
        "owed_known": "寄出前需支付 {amount}。我们会告诉您支付方式，收到付款后即寄出。",
        "owed_known_and_quoted": "寄出前需支付 {amount}，另有费用我们会向您报价。我们会告诉您支付方式，收到付款后即寄出。",
        "owed_quoted": "寄出前还有费用需要支付，我们会向您报价。收到付款后即寄出。",
        "shipment_heading": "寄给您的包裹",
        "shipped_exchange_shipping": "您的换货商品已通过 {carrier} 寄出。快递单号：{tracking_number}。",
        "shipped_repairing": "您维修好的商品已通过 {carrier} 寄还给您。快递单号：{tracking_number}。",
        "shipped_returning_to_customer": "您的商品已通过 {carrier} 寄还给您。快递单号：{tracking_number}。",
        "ended_withdrawn": "您已于 {date} 撤回此退货。",
        "ended_cancelled": "此退货已于 {date} 取消。",
        "units": "{title} × {quantity}",
        "refund_line_amount": "{title} × {quantity}：{amount}",
        "refund_line_inspection_fee": "已扣除检验费：−{amount}",
        "refund_line_refunded": "此商品退款：{amount}",
        "refund_itemised_total": "退款总额：{amount}",
    },
}

# Every code a customer text exists for; the test checks each has a text in every language.
CODES: dict[str, tuple[str, ...]] = {
    "why": tuple(r.value for r in CustomerReason),
    "res": tuple(r.value for r in Resolution) + ("declined", "pending"),
    "evidence": tuple(k.value for k in EvidenceKind),
    "fee": tuple(k.value for k in FeeKind),
    "shipping_paid_by": tuple(p.value for p in Party),
    "deadline": tuple(k.value for k in DeadlineKind),
    # where ship_to_customer is next (returns.allowed.SHIPPING_BACK): what was shipped from there
    "shipped": tuple(s.value for s in ReturnState if s in SHIPPING_BACK),
    "ended": (ReturnState.withdrawn.value, ReturnState.cancelled.value),
}


def text(language: str, key: str, **values: object) -> str:
    """One catalogue entry in `language` (English when the language is not one of ours)."""
    return WORDS[language_of(language)][key].format(**values)


def money(amount: int, currency: str, language: str) -> str:
    """Minor units as the language writes money: "€207.50", "207,50 €", "€207.50" (zh)."""
    value = Decimal(amount).scaleb(-get_currency_precision(currency))
    return format_currency(value, currency, locale=BABEL_LOCALE[language_of(language)])


# An item whose every unit failed the inspection: the closing email's word (and the page's).
FAILED_INSPECTION = "failed_inspection"


def decision_label(language: str, *, eligible: bool, resolution: str | None,
                   deciding: bool = False) -> str:
    """"Refund", "Non accepté", "审核中": what became of an item, in a word or two."""
    w = WORDS[language_of(language)]
    if not eligible:
        return w["res_declined"]
    if deciding or resolution is None:
        return w["res_pending"]
    return w.get(f"res_{resolution}", w["res_refund"])


def reasons_for(*, eligible: bool, resolution: str | None, resolution_changed: bool,
                evidence_missing: Iterable[str] = (), deciding: bool = False) -> list[CustomerReason]:
    """Which customer reasons apply to an item, from its decision's facts (never its staff text).
    `deciding`: the return is still being reviewed (evidence is asked for only then)."""
    found: list[CustomerReason] = []
    if not eligible:
        found.append(CustomerReason.declined)
    elif resolution == Resolution.returnless_refund.value:
        found.append(CustomerReason.returnless)
    elif resolution is not None and resolution_changed:
        found.append(CustomerReason.resolution_changed)
    if deciding and list(evidence_missing):
        found.append(CustomerReason.evidence_missing)
    return found


def evidence_words(kinds: Iterable[str], language: str) -> str:
    w = WORDS[language_of(language)]
    return w["list_sep"].join(w[f"evidence_{k}"] for k in kinds if f"evidence_{k}" in w)


def item_reasons(language: str, *, eligible: bool, resolution: str | None,
                 resolution_changed: bool, evidence_missing: Iterable[str] = (),
                 deciding: bool = False, support_email: str = "",
                 upload_here: bool = False) -> list[str]:
    """The item's reasons as the customer reads them, in `language`. `upload_here`: the return
    page, with its upload form open, asks for the missing evidence "below"."""
    evidence_missing = list(evidence_missing)
    return [text(language, f"why_{code.value}"
                 + ("_upload" if upload_here and code == CustomerReason.evidence_missing else ""),
                 email=support_email,
                 evidence=evidence_words(evidence_missing, language))
            for code in reasons_for(eligible=eligible, resolution=resolution,
                                    resolution_changed=resolution_changed,
                                    evidence_missing=evidence_missing, deciding=deciding)]


def fee_line(kind: str, amount: int, currency: str, language: str) -> str:
    """"restocking fee, €207.50" / "frais de remise en stock, 207,50 €"."""
    w = WORDS[language_of(language)]
    return w["fee_line"].format(fee=w[f"fee_{kind}"], amount=money(amount, currency, language))


def shipping_paid_by(party: str, language: str) -> str:
    return text(language, f"shipping_paid_by_{party}")


def deadline_moved(kind: str, language: str) -> str:
    """"The date that moved: our review of your request." (003 §III.4: told separately)."""
    w = WORDS[language_of(language)]
    what = w.get(f"deadline_{kind}")
    return w["deadline_moved"].format(what=what) if what else ""


def owed(amount: int | None, quoted: bool, currency: str, language: str) -> str | None:
    """What the customer pays before a shipment to them: the known amount and/or costs quoted."""
    if amount:
        key = "owed_known_and_quoted" if quoted else "owed_known"
        return text(language, key, amount=money(amount, currency, language))
    return text(language, "owed_quoted") if quoted else None


def shipped(state: str, carrier: str, tracking_number: str, language: str) -> str:
    """"Your replacement is on its way with UPS. Tracking number: 1Z…": what staff shipped to the
    customer from `state` (exchange_shipping, repairing, returning_to_customer)."""
    return text(language, f"shipped_{state}", carrier=carrier, tracking_number=tracking_number)


def ended(state: str, date: str, language: str) -> str:
    """"You withdrew this return on …" / "This return was cancelled on …"."""
    return text(language, f"ended_{state}", date=date)


def inspection_fee_deducted(amount: int, currency: str, language: str) -> str:
    """"Inspection fee deducted: −€15.00" (003 §V.1.4), under the line it was deducted from."""
    return text(language, "refund_line_inspection_fee", amount=money(amount, currency, language))


def refunded_for_line(amount: int, currency: str, language: str) -> str:
    return text(language, "refund_line_refunded", amount=money(amount, currency, language))


def refund_itemised(itemised: RefundItemised, language: str) -> list[str]:
    """A refund line by line (returns/refund_itemised.py) as the emails list it: each line's
    amount, the inspection fee deducted from it and what it refunds, then the total refunded.
    The page shows the same words in its items table."""
    cur = itemised.currency
    lines: list[str] = []
    for line in itemised.lines:
        lines.append(text(language, "refund_line_amount", title=line.title, quantity=line.quantity,
                          amount=money(line.amount, cur, language)))
        if line.inspection_fee:
            lines.append(inspection_fee_deducted(line.inspection_fee, cur, language))
            lines.append(refunded_for_line(line.refunded, cur, language))
    lines.append(text(language, "refund_itemised_total",
                      amount=money(itemised.total, cur, language)))
    return lines

"""Every word the customer page shows, in en, fr and zh: the emails' wording where the emails say
the same thing (activities/templates/<locale>/), and locale-aware dates and amounts (Babel).

One table per language, same keys in each (tests/customer_page checks it). Customer-facing only:
no state names, rule codes or staff notes reach the page. The words the emails say too (each
item's decision and its reason, fees, who pays the return shipping, amounts) come from the one
shared catalogue, returns/customer_words.py, merged into each table below.
"""

from __future__ import annotations

from datetime import datetime

from activities.notifications import format_deadline
from returns import customer_words

LANGUAGES = customer_words.LANGUAGES
BABEL_LOCALE = customer_words.BABEL_LOCALE
HTML_LANG = {"en": "en", "fr": "fr", "zh": "zh-CN"}

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your return {return_id}",
        "order": "Order {order_id}",
        "where": "Where your return is",
        "done": "done",
        "to_come": "to come",
        "by": "by {date}",
        "next": "What you need to do",
        "nothing_to_do": "Nothing for now: we will email you at each step.",
        "ship_by": "Send the parcel by tracked post by {date}, then give us its tracking number below.",
        "shipped_thanks": "Thank you: we have your parcel's tracking number ({tracking}).",
        "items": "Items",
        "decision": "Decision",
        "refund": "Refund",
        "fee": "Fee",
        "refund_estimate": "Your refund",
        "refund_note": "On the payment method used for the order, once the returned items have reached us and been checked.",
        "refund_note_returnless": "On the payment method used for the order. You keep the items: there is nothing to send back.",
        "fees_total": "Fees deducted",
        "return_address": "Return address",
        "label": "Download your return label (PDF)",
        "tracking_heading": "Your parcel's tracking number",
        "carrier": "Carrier",
        "tracking_number": "Tracking number",
        "send": "Send",
        "withdraw_heading": "Changed your mind?",
        "withdraw_text": "You can withdraw this return until we receive your parcel.",
        "withdraw": "Withdraw my return",
        "withdrawn_thanks": "Your return is withdrawn.",
        "status_closed": "This return is closed.",
        # an item that failed the inspection (the inspection_failed email says the same)
        "owed_next": "Before we send your item, there is something to pay: we will email you the amount and how to pay, and we send it once it is paid.",
        "failed_inspection_reason": "When we checked it, it did not meet the conditions of our returns policy: we send it back to you as it is, without a refund or exchange.",
        "support": "Questions? Write to {email}.",
        # steps
        "step_requested": "Return requested",
        "step_review": "Reviewed by our team",
        "step_approved": "Return accepted",
        "step_shipped": "Parcel sent",
        "step_received": "Parcel received",
        "step_inspected": "Items checked",
        "step_refunded": "Refund issued",
        "step_rejected": "Return not accepted",
        "step_expired": "Closed: the parcel was not sent in time",
        "step_withdrawn": "Withdrawn",
        "step_cancelled": "Cancelled",
        "step_closed": "Return closed",
        # refusals
        "refused": "We could not record this",
        "bad_carrier": "Please enter the carrier's name (for example La Poste, DHL, UPS), up to 40 characters.",
        "bad_tracking": "Please check the tracking number: 4 to 40 letters, digits or dashes, as printed on your receipt.",
        "not_now_tracking": "A tracking number can be given once your return is accepted and until we receive the parcel.",
        "not_now_withdraw": "This return can no longer be withdrawn: we already have your parcel, or it is closed.",
        "bad_form": "This form has expired. Please reload the page and try again.",
        "unavailable": "This page is not available right now. Please try again in a few minutes.",
        # answers to staff's questions (request_info)
        "answer_needed": "We have a question for you: please answer it below, so that we can finish reviewing your return.",
        "answer_thanks": "Thank you for your answer: we are finishing the review of your return.",
        "question_heading": "Our question",
        "your_answer": "Your answer",
        "answers_heading": "Your answers",
        "answered_on": "answered on {date}",
        "bad_answer": "Please write your answer: 1 to 2,000 characters.",
        "answer_refused_review_over": "The review of your return is over, so there is no question to answer any more. If you still want to tell us something, write to the shop.",
        "answer_refused_no_question": "There is no question waiting for your answer.",
        "answer_refused_question_changed": "We have asked you a newer question: please reload the page and answer that one.",
        # link problems
        "link_forged": "This link is not valid",
        "link_forged_text": "Please use the link from your latest email about this return.",
        "link_expired": "This link has expired",
        "link_expired_text": "Return pages stay open for some weeks after a return ends. Write to the shop if you need anything about this return.",
    },
    "fr": {
        "title": "Votre retour {return_id}",
        "order": "Commande {order_id}",
        "where": "Où en est votre retour",
        "done": "fait",
        "to_come": "à venir",
        "by": "au plus tard le {date}",
        "next": "Ce que vous devez faire",
        "nothing_to_do": "Rien pour l’instant : nous vous écrirons à chaque étape.",
        "ship_by": "Envoyez le colis par un service avec suivi au plus tard le {date}, puis indiquez-nous son numéro de suivi ci-dessous.",
        "shipped_thanks": "Merci : nous avons le numéro de suivi de votre colis ({tracking}).",
        "items": "Articles",
        "decision": "Décision",
        "refund": "Remboursement",
        "fee": "Frais",
        "refund_estimate": "Votre remboursement",
        "refund_note": "Sur le moyen de paiement utilisé pour la commande, dès que les articles renvoyés nous seront parvenus et auront été contrôlés.",
        "refund_note_returnless": "Sur le moyen de paiement utilisé pour la commande. Vous gardez les articles : vous n’avez rien à nous renvoyer.",
        "fees_total": "Frais déduits",
        "return_address": "Adresse de retour",
        "label": "Télécharger votre étiquette de retour (PDF)",
        "tracking_heading": "Le numéro de suivi de votre colis",
        "carrier": "Transporteur",
        "tracking_number": "Numéro de suivi",
        "send": "Envoyer",
        "withdraw_heading": "Vous avez changé d’avis ?",
        "withdraw_text": "Vous pouvez annuler ce retour tant que nous n’avons pas reçu votre colis.",
        "withdraw": "Annuler mon retour",
        "withdrawn_thanks": "Votre retour est annulé.",
        "status_closed": "Ce retour est clôturé.",
        "owed_next": "Avant de vous envoyer votre article, un montant reste à régler : nous vous écrirons le montant et comment payer, et l’envoi part dès le paiement reçu.",
        "failed_inspection_reason": "Lors de notre contrôle, il ne remplissait pas les conditions de notre politique de retour : nous vous le renvoyons tel quel, sans remboursement ni échange.",
        "support": "Une question ? Écrivez à {email}.",
        "step_requested": "Demande de retour reçue",
        "step_review": "Examinée par notre équipe",
        "step_approved": "Retour accepté",
        "step_shipped": "Colis envoyé",
        "step_received": "Colis reçu",
        "step_inspected": "Articles contrôlés",
        "step_refunded": "Remboursement effectué",
        "step_rejected": "Retour non accepté",
        "step_expired": "Clôturé : le colis n’a pas été envoyé à temps",
        "step_withdrawn": "Annulé à votre demande",
        "step_cancelled": "Annulé",
        "step_closed": "Retour clôturé",
        "refused": "Nous n’avons pas pu l’enregistrer",
        "bad_carrier": "Indiquez le nom du transporteur (par exemple La Poste, DHL, UPS), 40 caractères au plus.",
        "bad_tracking": "Vérifiez le numéro de suivi : 4 à 40 lettres, chiffres ou tirets, tel qu’il figure sur votre reçu.",
        "not_now_tracking": "Le numéro de suivi peut être indiqué une fois le retour accepté, jusqu’à la réception du colis.",
        "not_now_withdraw": "Ce retour ne peut plus être annulé : nous avons déjà votre colis, ou le retour est clôturé.",
        "bad_form": "Ce formulaire a expiré. Rechargez la page et réessayez.",
        "unavailable": "Cette page n’est pas disponible pour le moment. Réessayez dans quelques minutes.",
        "answer_needed": "Nous avons une question pour vous : merci d’y répondre ci-dessous, afin que nous puissions terminer l’examen de votre retour.",
        "answer_thanks": "Merci pour votre réponse : nous terminons l’examen de votre retour.",
        "question_heading": "Notre question",
        "your_answer": "Votre réponse",
        "answers_heading": "Vos réponses",
        "answered_on": "répondu le {date}",
        "bad_answer": "Écrivez votre réponse : de 1 à 2 000 caractères.",
        "answer_refused_review_over": "L’examen de votre retour est terminé : il n’y a plus de question à laquelle répondre. Si vous souhaitez encore nous dire quelque chose, écrivez à la boutique.",
        "answer_refused_no_question": "Aucune question n’attend votre réponse.",
        "answer_refused_question_changed": "Nous vous avons posé une nouvelle question : rechargez la page et répondez à celle-ci.",
        "link_forged": "Ce lien n’est pas valide",
        "link_forged_text": "Utilisez le lien de votre dernier e-mail concernant ce retour.",
        "link_expired": "Ce lien a expiré",
        "link_expired_text": "La page d’un retour reste ouverte quelques semaines après sa clôture. Écrivez à la boutique pour toute question sur ce retour.",
    },
    "zh": {
        "title": "您的退货 {return_id}",
        "order": "订单 {order_id}",
        "where": "退货进度",
        "done": "已完成",
        "to_come": "待进行",
        "by": "最迟于 {date}",
        "next": "您需要做什么",
        "nothing_to_do": "目前无需操作：每一步我们都会发邮件通知您。",
        "ship_by": "请使用可追踪的快递服务，最迟于 {date} 寄出包裹，然后在下方填写运单号。",
        "shipped_thanks": "谢谢：我们已收到您包裹的运单号（{tracking}）。",
        "items": "商品",
        "decision": "处理结果",
        "refund": "退款",
        "fee": "费用",
        "refund_estimate": "您的退款",
        "refund_note": "退回原支付方式，待退回的商品送达并检验后处理。",
        "refund_note_returnless": "退回原支付方式。商品无需寄回，您可以保留。",
        "fees_total": "扣除的费用",
        "return_address": "退货地址",
        "label": "下载退货标签（PDF）",
        "tracking_heading": "您包裹的运单号",
        "carrier": "快递公司",
        "tracking_number": "运单号",
        "send": "提交",
        "withdraw_heading": "改变主意了？",
        "withdraw_text": "在我们收到包裹之前，您可以撤回此退货。",
        "withdraw": "撤回我的退货",
        "withdrawn_thanks": "您的退货已撤回。",
        "status_closed": "此退货已结束。",
        "owed_next": "在寄出您的商品之前，还有费用需要支付：我们会通过邮件告诉您金额和支付方式，收到付款后即寄出。",
        "failed_inspection_reason": "经检验，该商品不符合我们退货政策的条件：我们会将其原样寄回给您，不予退款或换货。",
        "support": "有疑问？请写信至 {email}。",
        "step_requested": "已收到退货申请",
        "step_review": "我们的团队已审核",
        "step_approved": "退货已受理",
        "step_shipped": "包裹已寄出",
        "step_received": "包裹已收到",
        "step_inspected": "商品已检验",
        "step_refunded": "已退款",
        "step_rejected": "退货未受理",
        "step_expired": "已关闭：包裹未按时寄出",
        "step_withdrawn": "已撤回",
        "step_cancelled": "已取消",
        "step_closed": "退货已结束",
        "refused": "无法记录",
        "bad_carrier": "请填写快递公司名称（例如 顺丰、DHL、UPS），最多 40 个字符。",
        "bad_tracking": "请核对运单号：4 至 40 个字母、数字或连字符，与收据上一致。",
        "not_now_tracking": "退货受理后、我们收到包裹之前，才可以填写运单号。",
        "not_now_withdraw": "此退货已无法撤回：我们已收到您的包裹，或退货已结束。",
        "bad_form": "此表单已过期。请刷新页面后重试。",
        "unavailable": "此页面暂时无法访问。请几分钟后再试。",
        "answer_needed": "我们有一个问题需要您回答：请在下方作答，以便我们完成对您退货的审核。",
        "answer_thanks": "感谢您的回答：我们正在完成对您退货的审核。",
        "question_heading": "我们的问题",
        "your_answer": "您的回答",
        "answers_heading": "您的回答记录",
        "answered_on": "回答于 {date}",
        "bad_answer": "请填写您的回答：1 至 2000 个字符。",
        "answer_refused_review_over": "您的退货审核已结束，已没有需要回答的问题。如仍有话要告诉我们，请写信给商家。",
        "answer_refused_no_question": "目前没有等待您回答的问题。",
        "answer_refused_question_changed": "我们向您提出了一个新的问题：请刷新页面并回答新问题。",
        "link_forged": "此链接无效",
        "link_forged_text": "请使用您最近一封关于此退货的邮件中的链接。",
        "link_expired": "此链接已过期",
        "link_expired_text": "退货结束后，退货页面会保留数周。如对此退货有任何疑问，请写信给商家。",
    },
}


# The shared customer words (decisions, reasons, shipping), the same in the emails.
for _language, _table in WORDS.items():
    for _key, _text in customer_words.WORDS[_language].items():
        _table.setdefault(_key, _text)


def language_of(requested: str | None, accept_language: str | None = None) -> str:
    """The page's language: `?lang=` (the emails' links carry the customer's locale), then the
    browser's Accept-Language, then English."""
    for candidate in [requested or ""] + [p.split(";")[0] for p in (accept_language or "").split(",")]:
        language = candidate.strip().split("-")[0].split("_")[0].lower()
        if language in LANGUAGES:
            return language
    return "en"


def money(amount: int, currency: str, language: str) -> str:
    """Minor units as the language writes money: "€12.50", "12,50 €", "€12.50" (zh)."""
    return customer_words.money(amount, currency, language)


def date(at: datetime, timezone: str | None, language: str) -> str:
    """A date as the emails write it (activities.notifications.format_deadline)."""
    return format_deadline(at, timezone, language)


# The upload form's words live in their own table (customer_page/upload_words.py).
from customer_page.upload_words import UPLOAD_WORDS  # noqa: E402

for _language, _words in UPLOAD_WORDS.items():
    WORDS[_language].update(_words)
# What the customer owes before a shipment (issue 18 point 2): the page says how much, why (the
# policy's words with their clauses, as in the emails) and where to pay it.
WORDS["en"].update({
    "owed_heading": "To pay before we ship",
    "owed_pay": "Pay {amount} securely",
    "owed_pay_note": "The button opens our payment provider's page. We ship as soon as the payment reaches us.",
    "owed_paid": "Thank you: your payment of {amount} has reached us. We ship soon and email you the tracking number.",
    "owed_quote": "We will email you the amount and a link to pay it.",
    "pay_now": "Pay what you owe (below): we ship as soon as it reaches us.",
})
WORDS["fr"].update({
    "owed_heading": "À régler avant l’expédition",
    "owed_pay": "Payer {amount} en toute sécurité",
    "owed_pay_note": "Le bouton ouvre la page de notre prestataire de paiement. Nous expédions dès réception du paiement.",
    "owed_paid": "Merci : votre paiement de {amount} nous est parvenu. Nous expédions bientôt et vous envoyons le numéro de suivi.",
    "owed_quote": "Nous vous enverrons par e-mail le montant et un lien pour le régler.",
    "pay_now": "Réglez ce que vous devez (ci-dessous) : nous expédions dès réception du paiement.",
})
WORDS["zh"].update({
    "owed_heading": "发货前需支付",
    "owed_pay": "安全支付 {amount}",
    "owed_pay_note": "按钮将打开我们支付服务商的页面。收到付款后我们会立即发货。",
    "owed_paid": "谢谢：我们已收到您支付的 {amount}。我们将尽快发货，并通过电子邮件告知快递单号。",
    "owed_quote": "我们会通过电子邮件告知金额及付款链接。",
    "pay_now": "请支付您应付的款项（见下方）：收到付款后我们会立即发货。",
})

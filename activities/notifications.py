"""The `send_notification` activity: render a notification's templates and hand the email over.

Templates live in `activities/templates/<locale>/<name>.subject.txt | .txt | .html` and see only the
`Notification` fields (plus a `plain_reason` filter). The locale picks the folder: `zh-CN`, then
`zh`, then `en`. Undefined variables raise, so a template typo fails the test suite, not a customer.
Shipped: `en`, `fr` and `zh` (Simplified Chinese) for every template.

Customers get their own locale; staff get the merchant's staff locale (adapters file,
`staff_locale`, default `en`). `deadline` is formatted for the folder's language from
`deadline_at` in the merchant's time zone ("mardi 24 novembre 2026", "2026年11月24日 星期二"),
with the time when the deadline is not the end of a day; the email says its language in
`Content-Language`.

Per merchant (`merchant_id`), the email goes through that merchant's transport (Maildir outbox or
SMTP relay, from the adapters file); requests without a merchant use the default transport.

Idempotent: the transport delivers at most once per `Notification.idempotency_key`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timezone
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel.dates import format_datetime
from markupsafe import Markup, escape
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import SEND_NOTIFICATION, Audience, Notification, NotificationSent
from activities.customer_email import for_customer
from activities.mail import (
    PERMANENT_EMAIL_FAILURE,
    Attachment,
    MaildirOutbox,
    MailTransport,
    SmtpTransport,
    UnsendableAddress,
    build_message,
)
from customer_page.links import CustomerLinks
from returns import customer_words
from returns.events import workflow_id_for
from runtime.logging import get_logger
from runtime.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
DEFAULT_LOCALE = "en"
TEMPLATE_ERROR = "NotificationTemplateError"  # ApplicationError type: unknown or broken template

# Every template the workflow may name, and who it is written for. A staff template (review points,
# provider errors) must never reach a customer, so the activity refuses a mismatched audience.
TEMPLATE_AUDIENCE: dict[str, Audience] = {
    "request_received": "customer",
    "review_needed": "staff",
    "info_requested": "customer",
    "approved": "customer",
    "rejected": "customer",
    "ship_by_reminder": "customer",
    "expired": "customer",
    "parcel_in_transit": "customer",
    "received": "customer",
    "receipt_problem": "staff",
    "inspection_passed": "customer",
    "inspection_failed": "customer",
    "escalation": "staff",
    "action_needed": "staff",  # inspect, ship an exchange / repair / refused item
    "refund_issued": "customer",
    "refund_failed": "staff",
    "exchange_shipping": "customer",
    "repair_started": "customer",
    "deadline_extended": "customer",  # a date the customer was given moved (003 §III.4)
    "returned_to_customer": "customer",
    "withdrawn": "customer",
    "cancelled": "customer",
    "closed": "customer",
    "payment_requested": "customer",  # what they owe before a shipment, and the page to pay it
    "repaired": "customer",  # the repaired item shipped back (ship_to_customer), with its tracking
}
TEMPLATE_NAMES = tuple(TEMPLATE_AUDIENCE)


@dataclass(frozen=True)
class RenderedEmail:
    locale: str  # the folder the templates came from
    subject: str
    text: str
    html: str


# `str(Reason)` is "<clause>: <text>"; a clause cites a seed section ("004 §2.2", "000 §1.3, §2.2")
# or a person ("staff override by alice"). The text may itself contain colons.
_CLAUSE_FIRST = re.compile(
    r"^\s*(?P<clause>[^:\n]{0,40}§[^:\n]*|\d{3}\b[^:\n]{0,30}|staff override by [^:\n]{1,60}"
    r"|merchant default[^:\n]{0,40})"
    r":\s*(?P<text>.+)$", re.S)


def plain_reason(reason: str) -> str:
    """A reason as a plain sentence with its clause in brackets.

    `"004 §2.2: returns within 15 calendar days of signature"` ->
    `"Returns within 15 calendar days of signature (004 §2.2)."`; other text is only tidied.
    """
    reason = " ".join(str(reason).split())
    m = _CLAUSE_FIRST.match(reason)
    if m:
        text = m["text"].strip().rstrip(".")
        clause = m["clause"].strip()
        # A rule the merchant set where its written policy is silent: the customer reads "our
        # policy", not our bookkeeping of which rules have no seed clause.
        clause = "our policy" if clause.startswith("merchant default") else clause
        reason = f"{text[:1].upper()}{text[1:]} ({clause})"
    else:
        reason = reason[:1].upper() + reason[1:]
    if reason and reason[-1] not in ".!?。！？":
        reason += "."
    return reason


def paragraphs(text: str | None, boxed: bool = False) -> Markup:
    """Free text (a staff question, an escalation) as HTML paragraphs, escaped, line breaks kept.

    `boxed`: the last paragraph gets no bottom margin, so a box's padding stays even.
    """
    if not text:
        return Markup("")
    blocks = [b for b in re.split(r"\n\s*\n", str(text).strip()) if b.strip()]
    out = []
    for i, block in enumerate(blocks):
        margin = "0" if boxed and i == len(blocks) - 1 else "0 0 12px 0"
        body = Markup("<br>").join(escape(line) for line in block.splitlines())
        out.append(Markup('<p style="margin:{};">{}</p>').format(margin, body))
    return Markup("").join(out)


# Per language: the date, and the date with a time (for deadlines that are not the end of a day).
_DATE_PATTERNS = {
    "en": ("en", "EEEE d MMMM y", "{date}, {time} ({zone})"),
    "fr": ("fr", "EEEE d MMMM y", "{date} à {time} ({zone})"),
    "zh": ("zh_Hans_CN", "y年M月d日 EEEE", "{date} {time}（{zone}）"),
}
# The language of each template folder, as Content-Language and <html lang> say it.
CONTENT_LANGUAGE = {"en": "en", "fr": "fr", "zh": "zh-CN"}


def format_deadline(at: datetime, tz: str | None, locale: str) -> str:
    """`at` as a local date in `tz` for `locale`'s language: "Tuesday 24 November 2026",
    "mardi 24 novembre 2026", "2026年11月24日 星期二"; the time is added unless `at` is the
    end of a local day (23:59, how policy deadlines in days end)."""
    language = locale.split("-")[0].split("_")[0]
    babel_locale, date_pattern, with_time = _DATE_PATTERNS.get(language, _DATE_PATTERNS["en"])
    try:
        zone = ZoneInfo(tz) if tz else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.utc
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    local = at.astimezone(zone)
    date = format_datetime(local, date_pattern, locale=babel_locale)
    if local.time() >= time(23, 59):
        return date
    return with_time.format(date=date, time=local.strftime("%H:%M"), zone=tz or "UTC")


_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_LOCALE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?")


class NotificationTemplates:
    """Renders the three parts of a notification from its Jinja2 templates."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        self.templates_dir = Path(templates_dir or TEMPLATES_DIR)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.templates_dir),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",),
                                                default_for_string=False, default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["plain_reason"] = plain_reason
        # Each item's decision in the catalogue's words, the same as on the return page.
        self.env.globals["customer_decision"] = lambda language, resolution, eligible=True: (
            customer_words.decision_label(language, eligible=eligible, resolution=resolution))
        self.env.filters["paragraphs"] = paragraphs

    def locale_for(self, name: str, locale: str) -> str | None:
        """The folder to render `name` from: the exact locale, its language, then English."""
        if not _TEMPLATE_NAME.fullmatch(name):
            return None  # never a path: names and locales come from workflow input
        candidates = [locale, locale.split("-")[0].split("_")[0], DEFAULT_LOCALE]
        for candidate in dict.fromkeys(c for c in candidates if _LOCALE.fullmatch(c)):
            folder = self.templates_dir / candidate
            if all((folder / f"{name}{ext}").is_file() for ext in (".subject.txt", ".txt", ".html")):
                return candidate
        return None

    def render(self, n: Notification, console_url: str | None = None) -> RenderedEmail:
        """Raises KeyError for an unknown template, jinja2 errors for a broken one.
        `console_url`: the staff console's base URL; staff emails link the return's page there."""
        folder = self.locale_for(n.template, n.locale)
        if folder is None:
            raise KeyError(n.template)
        if n.audience == "customer":
            # Reasons, fees, amounts and notes in the customer's words and language, never the
            # policy's staff wording (activities/customer_email.py, returns/customer_words.py).
            n = for_customer(n)
        # Only the notification's own fields: what the template may say is what the workflow sent.
        context = {field: getattr(n, field) for field in Notification.model_fields}
        if n.deadline_at is not None:
            context["deadline"] = format_deadline(n.deadline_at, n.timezone, folder)
        context.update(staff_links(n, console_url))
        subject = self.env.get_template(f"{folder}/{n.template}.subject.txt").render(context)
        text = self.env.get_template(f"{folder}/{n.template}.txt").render(context)
        html = self.env.get_template(f"{folder}/{n.template}.html").render(context)
        return RenderedEmail(locale=folder, subject=" ".join(subject.split()),
                             text=_tidy_text(text), html=html)


def staff_links(n: Notification, console_url: str | None) -> dict[str, str | None]:
    """The return's real workflow id (`return-<merchant>-<return>`; staff emails used to print
    `return-<return>`, which finds nothing) and, for staff, its page in the staff console."""
    workflow_id = (workflow_id_for(n.merchant_id, n.return_id) if n.merchant_id
                   else f"return-{n.return_id}")
    console = (f"{console_url.rstrip('/')}/returns/{quote(workflow_id, safe='')}"
               if console_url and n.audience == "staff" else None)
    return {"workflow_id": workflow_id, "console_return_url": console}


def _tidy_text(text: str) -> str:
    """No runs of blank lines or trailing spaces left by template conditionals."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


@dataclass(frozen=True)
class MerchantMail:
    """How one merchant's emails leave: the transport, and the language of staff emails."""

    transport: MailTransport
    staff_locale: str = DEFAULT_LOCALE


# Label files the carrier adapters write, by suffix.
_LABEL_TYPES = {".pdf": ("application", "pdf"), ".png": ("image", "png")}


class NotificationActivities:
    """Holds the transports (Maildir outbox or SMTP) the worker was configured with: one per
    merchant in `merchants`, `transport` for the others and for requests without a merchant."""

    def __init__(self, transport: MailTransport, templates_dir: Path | None = None, *,
                 merchants: dict[str, MerchantMail] | None = None,
                 staff_locale: str = DEFAULT_LOCALE, links: "CustomerLinks | None" = None,
                 console_url: str | None = None) -> None:
        self.transport = transport
        self.console_url = console_url  # staff emails link the return's console page
        self.links = links  # signs the customer's return page link; None: emails go without it
        self.default = MerchantMail(transport, staff_locale)
        self.merchants = dict(merchants or {})
        self.templates = NotificationTemplates(templates_dir)

    def mail_for(self, merchant_id: str | None) -> MerchantMail:
        if merchant_id is not None and merchant_id in self.merchants:
            return self.merchants[merchant_id]
        return self.default

    @activity.defn(name=SEND_NOTIFICATION)
    async def send_notification(self, n: Notification) -> NotificationSent:
        """Render and send one email; a retry of the same key never sends a second one."""
        expected = TEMPLATE_AUDIENCE.get(n.template)
        if expected is not None and expected != n.audience:
            raise ApplicationError(
                f"template {n.template!r} is written for {expected}, not {n.audience}",
                type=TEMPLATE_ERROR, non_retryable=True)
        mail = self.mail_for(n.merchant_id)
        if n.audience == "staff":
            # The workflow passes the customer's locale; staff read the merchant's language.
            n = n.model_copy(update={"locale": mail.staff_locale})
        elif self.links is not None and n.merchant_id is not None and not n.return_page_url:
            # Signed now, so the link stays open some weeks after the last email (LINK_LIFETIME).
            n = n.model_copy(update={"return_page_url": self.links.url(
                n.merchant_id, n.return_id, n.locale)})

        attachments: list[Attachment] = []
        if n.label_path:
            label = Path(n.label_path)
            if label.is_file():
                maintype, subtype = _LABEL_TYPES.get(label.suffix.lower(), ("application", "pdf"))
                attachments.append(Attachment(
                    filename=f"return-label-{n.return_id}.{subtype}", content=label.read_bytes(),
                    maintype=maintype, subtype=subtype))
            else:
                # The email still goes out (without promising an attachment); staff can resend.
                get_logger(__name__).warning("notification_label_missing", return_id=n.return_id,
                                             template=n.template, label_file=label.name)
                n = n.model_copy(update={"label_path": None})

        try:
            rendered = self.templates.render(n, self.console_url)
        except KeyError:
            raise ApplicationError(f"no template named {n.template!r}", type=TEMPLATE_ERROR,
                                   non_retryable=True) from None
        except jinja2.TemplateError as err:
            raise ApplicationError(f"template {n.template!r} failed to render: {err}",
                                   type=TEMPLATE_ERROR, non_retryable=True) from None

        try:
            message = build_message(
                idempotency_key=n.idempotency_key,
                mail_from=n.merchant_sender_email or mail.transport.mail_from,
                sender_name=n.merchant_name,
                to=n.to,
                reply_to=n.merchant_support_email,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                attachments=attachments,
                headers={"X-Return-Id": n.return_id, "X-Notification": n.template},
                content_language=CONTENT_LANGUAGE.get(rendered.locale, rendered.locale),
            )
        except UnsendableAddress as err:
            if err.role != "recipient":
                raise  # the merchant's sender or reply-to: retried while an operator fixes it
            raise ApplicationError(str(err), type=PERMANENT_EMAIL_FAILURE,
                                   non_retryable=True) from None
        sent = await mail.transport.send(message, n.idempotency_key)
        get_logger(__name__).info(
            "notification_sent", return_id=n.return_id, template=n.template, locale=rendered.locale,
            merchant_id=n.merchant_id,
            message_id=sent.message_id, transport=sent.transport, duplicate=sent.duplicate,
            attachments=len(attachments))
        return sent


def notification_activities_from_settings(settings: Settings) -> NotificationActivities:
    """SMTP when the environment configures a server, else the Maildir outbox under the data dir."""
    transport: MailTransport
    if settings.smtp is not None:
        transport = SmtpTransport(settings.smtp, settings.sent_log_path, mail_from=settings.mail_from)
    else:
        transport = MaildirOutbox(settings.outbox_dir, mail_from=settings.mail_from)
    return NotificationActivities(transport)

"""The `send_notification` activity: render a notification's templates and hand the email over.

Templates live in `activities/templates/<locale>/<name>.subject.txt | .txt | .html` and see only the
`Notification` fields (plus a `plain_reason` filter). The locale picks the folder: `zh-CN`, then
`zh`, then `en`. Undefined variables raise, so a template typo fails the test suite, not a customer.

Idempotent: the transport delivers at most once per `Notification.idempotency_key`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup, escape
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import SEND_NOTIFICATION, Audience, Notification, NotificationSent
from activities.mail import Attachment, MaildirOutbox, MailTransport, SmtpTransport, build_message
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
    "refund_issued": "customer",
    "refund_failed": "staff",
    "exchange_shipping": "customer",
    "repair_started": "customer",
    "returned_to_customer": "customer",
    "withdrawn": "customer",
    "cancelled": "customer",
    "closed": "customer",
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
    r"^\s*(?P<clause>[^:\n]{0,40}§[^:\n]*|\d{3}\b[^:\n]{0,30}|staff override by [^:\n]{1,60})"
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
        reason = f"{text[:1].upper()}{text[1:]} ({m['clause'].strip()})"
    else:
        reason = reason[:1].upper() + reason[1:]
    if reason and reason[-1] not in ".!?":
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

    def render(self, n: Notification) -> RenderedEmail:
        """Raises KeyError for an unknown template, jinja2 errors for a broken one."""
        folder = self.locale_for(n.template, n.locale)
        if folder is None:
            raise KeyError(n.template)
        # Only the notification's own fields: what the template may say is what the workflow sent.
        context = {field: getattr(n, field) for field in Notification.model_fields}
        subject = self.env.get_template(f"{folder}/{n.template}.subject.txt").render(context)
        text = self.env.get_template(f"{folder}/{n.template}.txt").render(context)
        html = self.env.get_template(f"{folder}/{n.template}.html").render(context)
        return RenderedEmail(locale=folder, subject=" ".join(subject.split()),
                             text=_tidy_text(text), html=html)


def _tidy_text(text: str) -> str:
    """No runs of blank lines or trailing spaces left by template conditionals."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


class NotificationActivities:
    """Holds the transport (Maildir outbox or SMTP) the worker was configured with."""

    def __init__(self, transport: MailTransport, templates_dir: Path | None = None) -> None:
        self.transport = transport
        self.templates = NotificationTemplates(templates_dir)

    @activity.defn(name=SEND_NOTIFICATION)
    async def send_notification(self, n: Notification) -> NotificationSent:
        """Render and send one email; a retry of the same key never sends a second one."""
        expected = TEMPLATE_AUDIENCE.get(n.template)
        if expected is not None and expected != n.audience:
            raise ApplicationError(
                f"template {n.template!r} is written for {expected}, not {n.audience}",
                type=TEMPLATE_ERROR, non_retryable=True)

        attachments: list[Attachment] = []
        if n.label_path:
            label = Path(n.label_path)
            if label.is_file():
                attachments.append(Attachment(filename=f"return-label-{n.return_id}.pdf",
                                              content=label.read_bytes()))
            else:
                # The email still goes out (without promising an attachment); staff can resend.
                get_logger(__name__).warning("notification_label_missing", return_id=n.return_id,
                                             template=n.template, label_file=label.name)
                n = n.model_copy(update={"label_path": None})

        try:
            rendered = self.templates.render(n)
        except KeyError:
            raise ApplicationError(f"no template named {n.template!r}", type=TEMPLATE_ERROR,
                                   non_retryable=True) from None
        except jinja2.TemplateError as err:
            raise ApplicationError(f"template {n.template!r} failed to render: {err}",
                                   type=TEMPLATE_ERROR, non_retryable=True) from None

        message = build_message(
            idempotency_key=n.idempotency_key,
            mail_from=self.transport.mail_from,
            sender_name=n.merchant_name,
            to=n.to,
            reply_to=n.merchant_support_email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            attachments=attachments,
            headers={"X-Return-Id": n.return_id, "X-Notification": n.template},
        )
        sent = await self.transport.send(message, n.idempotency_key)
        get_logger(__name__).info(
            "notification_sent", return_id=n.return_id, template=n.template, locale=rendered.locale,
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

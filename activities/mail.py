"""How a rendered notification becomes an email and leaves the building.

`build_message` makes the MIME message (text + HTML alternatives, the return label attached).
Two transports deliver it, both idempotent on the notification's idempotency key:

- `MaildirOutbox` (the default): writes into a Maildir on disk; open it with any mail client.
- `SmtpTransport`: sends through the merchant's SMTP relay and keeps a SQLite sent-log.

The Message-ID is derived from the idempotency key, so every attempt of the same step produces
the same Message-ID: the outbox uses it as the file name, and mail servers and clients can drop a
second copy if one ever slips through.

Errors never carry an email address (they end up in Temporal's history and the worker's logs).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sqlite3
import ssl
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

import aiosmtplib
from temporalio.exceptions import ApplicationError

from activities.contracts import NotificationSent
from runtime.settings import SmtpSettings

PERMANENT_EMAIL_FAILURE = "PermanentEmailFailure"  # ApplicationError type: do not retry
MESSAGE_ID_DOMAIN = "returns.local"
# Non-ASCII bodies go out quoted-printable or base64, never raw 8-bit: any relay accepts them.
MAIL_POLICY = email_policy.default.clone(cte_type="7bit")


class TransientEmailFailure(Exception):
    """The mail server could not take the message now (down, busy, 4xx): Temporal retries."""


def key_digest(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]


def message_id_for(idempotency_key: str) -> str:
    """`<32 hex chars of sha256(key)@returns.local>`: the same on every retry of the same step."""
    return f"<{key_digest(idempotency_key)}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "pdf"


def build_message(
    *,
    idempotency_key: str,
    mail_from: str,
    sender_name: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    reply_to: str | None = None,
    attachments: list[Attachment] | tuple[Attachment, ...] = (),
    headers: dict[str, str] | None = None,
    date: datetime | None = None,
    content_language: str | None = None,
) -> EmailMessage:
    """A multipart/alternative (text, HTML) email, wrapped in multipart/mixed when files are attached.

    `content_language` (RFC 3282, e.g. "fr", "zh-CN") is set last: `set_content` and
    `add_attachment` move or drop the Content-* headers already there."""
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = Address(display_name=sender_name, addr_spec=mail_from)
    msg["To"] = to
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(timezone.utc))
    msg["Message-ID"] = message_id_for(idempotency_key)
    # RFC 3834: tells auto-responders (vacation replies) not to answer a machine.
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    for att in attachments:
        msg.add_attachment(att.content, maintype=att.maintype, subtype=att.subtype,
                           filename=att.filename)
    if content_language:
        msg["Content-Language"] = content_language
    return msg


class MailTransport(Protocol):
    """Delivers a built message at most once per idempotency key."""

    name: str
    mail_from: str

    async def send(self, message: EmailMessage, idempotency_key: str) -> NotificationSent: ...


# --- Maildir outbox ------------------------------------------------------------------------------
class MaildirOutbox:
    """Delivers into a Maildir (new/, cur/, tmp/) that any mail client can open.

    The file is named after the key's hash, so "was it sent?" is "is the file there?": true across
    process restarts, and across concurrent workers because the final step is a hard link, which
    fails when the name already exists (a rename would silently overwrite).
    """

    name = "maildir"

    def __init__(self, directory: Path, mail_from: str = "returns@localhost") -> None:
        self.directory = Path(directory)
        self.mail_from = mail_from

    def _ensure_dirs(self) -> None:
        for sub in ("tmp", "new", "cur"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)

    @staticmethod
    def filename(idempotency_key: str) -> str:
        return f"{key_digest(idempotency_key)}.returns"

    def contains(self, idempotency_key: str) -> bool:
        """Delivered already? Looks in new/ and in cur/ (where a mail client moves what it has read,
        appending `:2,<flags>` to the name)."""
        name = self.filename(idempotency_key)
        if (self.directory / "new" / name).exists() or (self.directory / "cur" / name).exists():
            return True
        return any((self.directory / "cur").glob(name + ":*"))

    async def send(self, message: EmailMessage, idempotency_key: str) -> NotificationSent:
        duplicate = await asyncio.to_thread(self._deliver, message.as_bytes(), idempotency_key)
        return NotificationSent(message_id=message["Message-ID"], transport=self.name,
                                duplicate=duplicate)

    def _deliver(self, data: bytes, idempotency_key: str) -> bool:
        """Write the message; True when it was already there (nothing written)."""
        self._ensure_dirs()
        if self.contains(idempotency_key):
            return True
        name = self.filename(idempotency_key)
        tmp = self.directory / "tmp" / f"{name}.{os.getpid()}.{uuid.uuid4().hex}"
        final = self.directory / "new" / name
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, final)
        except FileExistsError:
            return True  # another worker delivered the same key a moment ago
        finally:
            tmp.unlink(missing_ok=True)
        # A mail client may have moved an earlier copy from new/ to cur/ between our check and the
        # link; that move finished before the link succeeded, so looking again in cur/ catches it.
        cur = self.directory / "cur"
        if any(cur.glob(name + ":*")):
            final.unlink(missing_ok=True)
            return True
        _fsync_dir(self.directory / "new")
        return False


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- SMTP ----------------------------------------------------------------------------------------
class SentLog:
    """SQLite record of what went out over SMTP, keyed by idempotency key."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS sent ("
            " idempotency_key TEXT PRIMARY KEY,"
            " message_id TEXT NOT NULL,"
            " sent_at TEXT NOT NULL)"
        )
        return conn

    def was_sent(self, idempotency_key: str) -> bool:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT 1 FROM sent WHERE idempotency_key = ?",
                               (idempotency_key,)).fetchone()
        return row is not None

    def record(self, idempotency_key: str, message_id: str) -> None:
        with closing(self._connect()) as conn, conn:  # closes; the inner `conn` commits
            conn.execute("INSERT OR IGNORE INTO sent VALUES (?, ?, ?)",
                         (idempotency_key, message_id, datetime.now(timezone.utc).isoformat()))


_EMAIL_RE = re.compile(r"[^\s<>@,;:\"']+@[^\s<>@,;:\"']+")


def _redact(text: str) -> str:
    """Server replies often quote the address ("550 <bob@example.com> unknown"): strip it."""
    return _EMAIL_RE.sub("[address]", text).strip()


class SmtpTransport:
    """Sends through an SMTP server (STARTTLS, implicit TLS and AUTH per `SmtpSettings`).

    Idempotency: the sent-log is checked before sending and written after the server accepted the
    message. A worker that crashes between the two will send again on retry; the Message-ID is the
    same on every attempt (derived from the key), so receiving servers and mail clients that
    de-duplicate by Message-ID drop the second copy.
    """

    name = "smtp"

    def __init__(self, settings: SmtpSettings, sent_log_path: Path, *,
                 mail_from: str | None = None, tls_context: ssl.SSLContext | None = None,
                 timeout: float = 30) -> None:
        self.settings = settings
        self.sent_log = SentLog(sent_log_path)
        self.mail_from = mail_from or settings.sender
        self.tls_context = tls_context  # e.g. a private CA's; None = the system's trust store
        self.timeout = timeout

    async def send(self, message: EmailMessage, idempotency_key: str) -> NotificationSent:
        message_id = message["Message-ID"]
        if await asyncio.to_thread(self.sent_log.was_sent, idempotency_key):
            return NotificationSent(message_id=message_id, transport=self.name, duplicate=True)
        s = self.settings
        try:
            await aiosmtplib.send(
                message,
                sender=self.mail_from,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                use_tls=s.use_tls,
                # Required when configured: never fall back to plain text silently.
                start_tls=s.starttls and not s.use_tls,
                tls_context=self.tls_context,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as err:
            # `from None`: the original error quotes the address; keep it out of history and logs.
            raise _classify(err, f"{s.host}:{s.port}") from None
        # A crash right here sends again on retry, with the same Message-ID (see the class docstring).
        await asyncio.to_thread(self.sent_log.record, idempotency_key, message_id)
        return NotificationSent(message_id=message_id, transport=self.name, duplicate=False)


def _classify(err: BaseException, server: str) -> Exception:
    """5xx for the recipient or the content is final (unknown mailbox, rejected message): a retry
    would get the same answer, so the workflow is told at once. Everything else is retried:
    connection problems and 4xx are temporary, and a refused sender or login is our configuration,
    which an operator fixes while Temporal keeps retrying."""
    if isinstance(err, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in err.recipients]
        detail = "; ".join(f"{r.code} {r.message}" for r in err.recipients)
        what = "refused the recipient"
    elif isinstance(err, aiosmtplib.SMTPRecipientRefused):
        codes, detail, what = [err.code], f"{err.code} {err.message}", "refused the recipient"
    elif isinstance(err, aiosmtplib.SMTPDataError):
        codes, detail, what = [err.code], f"{err.code} {err.message}", "refused the message"
    elif isinstance(err, aiosmtplib.SMTPResponseException):
        return TransientEmailFailure(f"SMTP server {server} answered "
                                     f"{_redact(f'{err.code} {err.message}')} ({type(err).__name__})")
    else:
        return TransientEmailFailure(f"SMTP server {server} unavailable: "
                                     f"{type(err).__name__}: {_redact(str(err))}")
    detail = _redact(detail)
    if codes and all(500 <= c < 600 for c in codes):
        return ApplicationError(f"mail server {server} {what}: {detail}",
                                type=PERMANENT_EMAIL_FAILURE, non_retryable=True)
    return TransientEmailFailure(f"mail server {server} {what} for now: {detail}")

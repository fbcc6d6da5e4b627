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
import base64
import binascii
import hashlib
import os
import re
import sqlite3
import ssl
import urllib.parse
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Protocol

import aiosmtplib
from temporalio.exceptions import ApplicationError

from activities.contracts import NotificationSent
from runtime.settings import SmtpSettings

PERMANENT_EMAIL_FAILURE = "PermanentEmailFailure"  # ApplicationError type: do not retry
MESSAGE_ID_DOMAIN = "returns.local"


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


@dataclass(frozen=True)
class OutgoingEmail:
    """A built message: what the transports deliver."""

    message_id: str
    to: str  # the envelope recipient, as written in `To:`
    data: bytes  # RFC 5322 / MIME, 7-bit, LF line endings (SMTP clients send them as CRLF)


class UnsendableAddress(ValueError):
    """The address cannot be written into a 7-bit email (the message never quotes the address).
    `role`: "recipient" (the customer's or staff's address: final for this email), "sender" or
    "reply-to" (the merchant's configuration: retried while an operator fixes it)."""

    def __init__(self, message: str, role: str) -> None:
        super().__init__(message)
        self.role = role


# An addr-spec we write as is: dot-atom local part, a host name. Anything else (quoted local parts,
# non-ASCII before the @, brackets, commas) would need SMTPUTF8 or could split into two addresses.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN = re.compile(r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                     r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")  # `localhost` too


def mailbox_address(address: str, role: str = "recipient") -> str:
    """`address` as an ASCII addr-spec; a non-ASCII domain is IDNA-encoded (`exämple.com` ->
    `xn--exmple-cua.com`). Raises `UnsendableAddress` for what no 7-bit email can carry."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not _LOCAL_PART.fullmatch(local):
        raise UnsendableAddress(f"the {role} address is not a plain mailbox (letters, digits and "
                                "!#$%&'*+-/=?^_`{|}~. before the @): it cannot be written into "
                                "an email header without SMTPUTF8", role)
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsendableAddress(f"the {role} address's domain is not a valid international "
                                    "domain name", role) from None
    if not _DOMAIN.fullmatch(domain):
        raise UnsendableAddress(f"the {role} address's domain is not a host name", role)
    return f"{local}@{domain}"


# Control characters, line breaks among them (C0, DEL, C1 and Unicode's line/paragraph separators).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SEVEN_BIT_TEXT = re.compile(r"[\t\n\x20-\x7e]*")


def one_line(value: str) -> str:
    """A header's value as one line: control characters (line breaks too) become one space, so a
    value never starts a second header."""
    return _CONTROL.sub(" ", value).strip()


def _folded(name: str, value: str) -> str:
    """`value` for header `name`, folded under 78 columns: as is when it can be, at its spaces
    when it is long ASCII, else RFC 2047 encoded words (non-ASCII, "=?", words too long to
    fold)."""
    plain = value.isascii() and "=?" not in value
    if plain and len(name) + 2 + len(value) <= 78:
        return value
    if plain and max(map(len, value.split(" "))) <= 60:
        return Header(value, "us-ascii", header_name=name).encode(linesep="\n")
    return Header(value, "utf-8", header_name=name).encode(linesep="\n")


def _header(name: str, value: str) -> str:
    return f"{name}: {_folded(name, one_line(value))}\n"


def display_name(name: str) -> str:
    """A sender's name as mail clients show it: one line, each run of white space as one space
    (how a phrase is read, RFC 5322 §3.2.5)."""
    return " ".join(one_line(name).split())


def _from_header(sender_name: str, address: str) -> str:
    name = display_name(sender_name)
    if not name:
        return f"From: {address}\n"
    quoted = formataddr((name, address))  # quotes an ASCII name where RFC 5322 needs it
    if name.isascii() and "=?" not in name and len(quoted) <= 72:
        return f"From: {quoted}\n"
    line = "From: " + Header(name, "utf-8", header_name="From").encode(linesep="\n")
    last = line.rsplit("\n", 1)[-1]
    fold = " " if len(last) + len(address) + 3 <= 78 else "\n "
    return f"{line}{fold}<{address}>\n"


def _text_part(subtype: str, text: str) -> bytes:
    """A text part in the smallest 7-bit form: as is when it is short-lined ASCII, else
    quoted-printable (mostly-Latin text) or base64 (e.g. Chinese), as `EmailMessage` chooses."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # the email's line ends: LF
    data = text.encode("utf-8")
    head = f"Content-Type: text/{subtype}; charset=\"utf-8\"\n"
    if _SEVEN_BIT_TEXT.fullmatch(text) and max(map(len, data.split(b"\n"))) <= 998:
        return (head + "Content-Transfer-Encoding: 7bit\n\n").encode() + data
    high = len(data) - len(text.encode("ascii", "ignore"))  # bytes of non-ASCII characters
    if 6 * high < len(data):  # QP (~len + 2 per high byte) is shorter than base64 (4/3 len)
        body = binascii.b2a_qp(data, istext=True)
        return (head + "Content-Transfer-Encoding: quoted-printable\n\n").encode() + body
    return (head + "Content-Transfer-Encoding: base64\n\n").encode() + base64.encodebytes(data)


def _attachment_part(att: Attachment) -> bytes:
    name = one_line(att.filename).replace("\\", "_").replace('"', "_")
    if name.isascii():
        disposition = f'attachment; filename="{name}"'
    else:  # RFC 2231
        disposition = f"attachment; filename*=utf-8''{urllib.parse.quote(name)}"
    return (f"Content-Type: {att.maintype}/{att.subtype}\n"
            f"Content-Transfer-Encoding: base64\n"
            f"Content-Disposition: {disposition}\n\n").encode() + base64.encodebytes(att.content)


def _multipart(subtype: str, parts: list[bytes], boundary: str) -> bytes:
    """The parts between `--boundary` lines, headed by the multipart's Content-Type. The line
    break before each delimiter belongs to the delimiter (RFC 2046 §5.1.1), not to the part."""
    out = [f'Content-Type: multipart/{subtype};\n boundary="{boundary}"\n\n'.encode()]
    for part in parts:
        out += [f"--{boundary}\n".encode(), part, b"\n"]
    out.append(f"--{boundary}--\n".encode())
    return b"".join(out)


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
) -> OutgoingEmail:
    """A multipart/alternative (text, HTML) email, wrapped in multipart/mixed when files are attached.

    Written directly as 7-bit MIME (RFC 2045-2047, 2183, 2231, 5322) rather than through
    `EmailMessage`, whose header registry parses every header it is given back again: that was
    most of the CPU a notification cost (docs/performance.md). The stdlib's strict parser reads
    the result back exactly (tests/notifications/test_mime_builder.py).
    `content_language` is RFC 3282's (e.g. "fr", "zh-CN"). Raises `UnsendableAddress`."""
    recipient = mailbox_address(to)
    message_id = message_id_for(idempotency_key)
    head = [_from_header(sender_name, mailbox_address(mail_from, "sender")),
            f"To: {recipient}\n"]
    if reply_to:
        head.append(f"Reply-To: {mailbox_address(reply_to, 'reply-to')}\n")
    head += [_header("Subject", subject),
             f"Date: {format_datetime(date or datetime.now(timezone.utc))}\n",
             f"Message-ID: {message_id}\n",
             # RFC 3834: tells auto-responders (vacation replies) not to answer a machine.
             "Auto-Submitted: auto-generated\n"]
    head += [_header(name, value) for name, value in (headers or {}).items()]
    head.append("MIME-Version: 1.0\n")
    if content_language:
        head.append(_header("Content-Language", content_language))
    # "=_" cannot occur in base64 or quoted-printable, and 7-bit parts are checked.
    base = f"=_{key_digest(idempotency_key)[:16]}_{uuid.uuid4().hex[:12]}"
    text_part, html_part = _text_part("plain", text), _text_part("html", html)
    while base.encode() in text_part or base.encode() in html_part:
        base = f"=_{uuid.uuid4().hex}"
    body = _multipart("alternative", [text_part, html_part], f"{base}_alt")
    if attachments:
        body = _multipart("mixed", [body] + [_attachment_part(a) for a in attachments],
                          f"{base}_mix")
    return OutgoingEmail(message_id=message_id, to=recipient,
                         data="".join(head).encode("ascii") + body)


class MailTransport(Protocol):
    """Delivers a built message at most once per idempotency key."""

    name: str
    mail_from: str

    async def send(self, message: OutgoingEmail, idempotency_key: str) -> NotificationSent: ...


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
        self._ready = False  # the three folders exist (made once per process)

    def _ensure_dirs(self) -> None:
        for sub in ("tmp", "new", "cur"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        self._ready = True

    @staticmethod
    def filename(idempotency_key: str) -> str:
        return f"{key_digest(idempotency_key)}.returns"

    def contains(self, idempotency_key: str) -> bool:
        """Delivered already? Looks in new/ and in cur/ (where a mail client moves what it has read,
        appending `:2,<flags>` to the name)."""
        name = self.filename(idempotency_key)
        return (self.directory / "new" / name).exists() or self._read_copy(name)

    def _read_copy(self, name: str) -> bool:
        """Is `name` in cur/, with or without the `:2,<flags>` a mail client appends?"""
        try:
            return any(entry == name or entry.startswith(name + ":")
                       for entry in os.listdir(self.directory / "cur"))
        except FileNotFoundError:
            return False

    async def send(self, message: OutgoingEmail, idempotency_key: str) -> NotificationSent:
        duplicate = await asyncio.to_thread(self._deliver, message.data, idempotency_key)
        return NotificationSent(message_id=message.message_id, transport=self.name,
                                duplicate=duplicate)

    def _deliver(self, data: bytes, idempotency_key: str) -> bool:
        """Write the message; True when it was already there (nothing written)."""
        if not self._ready:
            self._ensure_dirs()
        if self.contains(idempotency_key):
            return True
        try:
            return self._write(data, self.filename(idempotency_key))
        except FileNotFoundError:  # a folder was removed while we ran: make them again, once
            self._ensure_dirs()
            return self._write(data, self.filename(idempotency_key))

    def _write(self, data: bytes, name: str) -> bool:
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
        if self._read_copy(name):
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

    async def send(self, message: OutgoingEmail, idempotency_key: str) -> NotificationSent:
        message_id = message.message_id
        if await asyncio.to_thread(self.sent_log.was_sent, idempotency_key):
            return NotificationSent(message_id=message_id, transport=self.name, duplicate=True)
        s = self.settings
        try:
            await aiosmtplib.send(
                message.data,
                sender=self.mail_from,
                recipients=[message.to],
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

"""Where things live and how the embedded defaults are configured, from the environment.

One place for each fact: every path and knob the processes use is read here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from returns.console_link import DEFAULT_CONSOLE_URL

ROOT = Path(__file__).resolve().parent.parent
TASK_QUEUE = "returns"
NAMESPACE_DEFAULT = "default"
DEV_SERVER_ADDRESS = "127.0.0.1:7233"
DEV_UI_URL = "http://127.0.0.1:8233"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a log line
    starttls: bool = True
    use_tls: bool = False
    sender: str = "returns@localhost"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    policies_dir: Path = ROOT / "policies"
    task_queue: str = TASK_QUEUE
    smtp: SmtpSettings | None = None
    mail_from: str = "returns@localhost"
    extra: dict[str, str] = field(default_factory=dict)
    adapters_file: Path | None = None  # per-merchant email/payments/labels; None: all embedded
    secrets_file: Path | None = None  # NAME=value lines for the adapters' *_env secrets
    # Where every merchant's return events go when the adapters file names no endpoint
    # (RETURNS_DELIVERY_URL; the dev stack points it at its receiver). None: no events are sent.
    delivery_url: str | None = None
    # The staff console's public base URL (RETURNS_CONSOLE_URL; "" for none): each return's status
    # card links to its page there (returns/console_link.py). Given to new returns at their start.
    console_url: str | None = None

    @property
    def outbox_dir(self) -> Path:
        """Maildir of every email sent by the default transport (open it with any mail client)."""
        return self.data_dir / "outbox"

    @property
    def labels_dir(self) -> Path:
        return self.data_dir / "labels"

    @property
    def ledger_path(self) -> Path:
        """SQLite refund ledger of the default payment provider."""
        return self.data_dir / "ledger.sqlite3"

    @property
    def sent_log_path(self) -> Path:
        """SQLite record of emails sent over SMTP, keyed by idempotency key."""
        return self.data_dir / "sent.sqlite3"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("RETURNS_DATA_DIR", ROOT / ".data")).resolve()
        smtp = None
        if env.get("RETURNS_SMTP_HOST"):
            smtp = SmtpSettings(
                host=env["RETURNS_SMTP_HOST"],
                port=int(env.get("RETURNS_SMTP_PORT", "587")),
                username=env.get("RETURNS_SMTP_USERNAME") or None,
                password=env.get("RETURNS_SMTP_PASSWORD") or None,
                starttls=env.get("RETURNS_SMTP_STARTTLS", "true").lower() == "true",
                use_tls=env.get("RETURNS_SMTP_TLS", "false").lower() == "true",
                sender=env.get("RETURNS_MAIL_FROM", "returns@localhost"),
            )
        return cls(
            data_dir=data_dir,
            policies_dir=Path(env.get("RETURNS_POLICIES_DIR", ROOT / "policies")).resolve(),
            task_queue=env.get("RETURNS_TASK_QUEUE", TASK_QUEUE),
            smtp=smtp,
            mail_from=env.get("RETURNS_MAIL_FROM", "returns@localhost"),
            adapters_file=Path(env["RETURNS_ADAPTERS_FILE"]).resolve()
            if env.get("RETURNS_ADAPTERS_FILE") else None,
            secrets_file=Path(env["RETURNS_SECRETS_FILE"]).resolve()
            if env.get("RETURNS_SECRETS_FILE") else None,
            delivery_url=env.get("RETURNS_DELIVERY_URL") or None,
            console_url=env.get("RETURNS_CONSOLE_URL", DEFAULT_CONSOLE_URL).strip() or None,
        )

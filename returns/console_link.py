"""The link from a return's status card (Temporal UI) to its page in the staff console.

The workflow cannot read the environment, so the console's base URL reaches it in the start
request's memo (`CONSOLE_URL_MEMO`, set by ingestion from `Settings.console_url`, i.e.
RETURNS_CONSOLE_URL): recorded in the history, the same on every replay. No base URL, no link.
The page is `{base}/returns/{workflow_id}` (the staff console's route); the workflow id holds
the merchant and return ids only, never personal data. Pure: no Temporal.
"""

from __future__ import annotations

from urllib.parse import quote

CONSOLE_URL_MEMO = "console_url"
DEFAULT_CONSOLE_URL = "http://127.0.0.1:8083"


def console_page_url(base: str | None, workflow_id: str) -> str | None:
    """`http://127.0.0.1:8083/returns/return-opalook-R1`, or None without a base URL."""
    if not base or not base.strip():
        return None
    return f"{base.strip().rstrip('/')}/returns/{quote(workflow_id, safe='')}"


__all__ = ["CONSOLE_URL_MEMO", "DEFAULT_CONSOLE_URL", "console_page_url"]

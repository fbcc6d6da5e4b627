"""Whether a form needs the return's status before its update can be built.

The console used to query the return's status before every action, to build the payload from it.
Most forms do not need it: their fields are the payload (a rejection's reason, a question, a
cancellation), and an approval needs the return's lines only when a per-line exception or a stock
confirmation was ticked. Skipping that query saves the person a round trip through the worker (a
replay of the whole history when the return is not in the worker's cache) on every click; the
workflow's validator still decides, and a refusal is shown in the form with the status read then
(docs/performance.md, "Pages people wait on"). Pure: no Temporal, no web.
"""

from __future__ import annotations

from typing import Any

from returns.allowed import Action

# The forms whose payload is their own fields (console/forms.py: these builders never read the
# status).
_OWN_FIELDS = frozenset({Action.reject, Action.request_info, Action.extend_deadline,
                         Action.retry_refund, Action.cancel, Action.acknowledge})


def needs_status(action: Action, form: Any) -> bool:
    """True when `forms.build(action, form, ...)` reads the return's status: its lines (receipt,
    inspection, an approval with per-line fields filled in) or its currency (amounts)."""
    if action in _OWN_FIELDS:
        return False
    if action == Action.approve:
        # Per-line fields are named `<field>@<line_id>`; unticked boxes are not sent at all.
        return any("@" in key and str(form.get(key) or "").strip() for key in form)
    return True


__all__ = ["needs_status"]

"""The side effects' metrics: refunds (with amounts by currency), emails, labels and outbound
deliveries, sent and failed (docs/operations.md#metrics).

`with_metrics` wraps the worker's activities (as `runtime.faults.with_faults` does), so the
activities themselves stay about their work. Counts are per attempt: a failed attempt that is
retried counts once as failed, and its success once as sent. A retry that finds its work already
done (`duplicate`: the same idempotency key) is not counted again.

Recorded through `activity.metric_meter()`: the worker's runtime exports them (Prometheus, when
`RETURNS_METRICS_ADDRESS` is set). Labels: `merchant_id` (`default` when none), `currency`,
`audience` (customer / staff) and a failure `reason` only; never a return, order or customer id.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import contracts as c

REFUNDS_ISSUED = "returns_refunds_issued_total"
REFUNDED_AMOUNT = "returns_refunded_amount_minor_total"
REFUND_FAILURES = "returns_refund_failures_total"
REFUND_FAILED_AMOUNT = "returns_refund_failed_amount_minor_total"
EMAILS_SENT = "returns_emails_sent_total"
EMAIL_FAILURES = "returns_email_failures_total"
LABELS_CREATED = "returns_labels_created_total"
LABEL_FAILURES = "returns_label_failures_total"
DELIVERIES_SENT = "returns_deliveries_sent_total"
DELIVERY_FAILURES = "returns_delivery_failures_total"

DESCRIPTIONS = {
    REFUNDS_ISSUED: "Refunds issued, by merchant and currency",
    REFUNDED_AMOUNT: "Amount refunded in minor units (cents), by merchant and currency",
    REFUND_FAILURES: "Refund attempts that failed, by merchant, currency and reason "
                     "(refused, no_provider, error)",
    REFUND_FAILED_AMOUNT: "Amount of the refund attempts that failed, in minor units, by merchant "
                          "and currency",
    EMAILS_SENT: "Emails sent, by merchant and audience (customer, staff)",
    EMAIL_FAILURES: "Email attempts that failed, by merchant and audience",
    LABELS_CREATED: "Return labels created, by merchant",
    LABEL_FAILURES: "Return label attempts that failed, by merchant",
    DELIVERIES_SENT: "Events delivered to the merchant's order system, by merchant",
    DELIVERY_FAILURES: "Event delivery attempts that failed, by merchant",
}


def _add(name: str, value: int = 1, **labels: str) -> None:
    activity.metric_meter().create_counter(name, DESCRIPTIONS[name]).add(value, labels)


def _merchant(merchant_id: str | None) -> str:
    return merchant_id or "default"


def _refund_reason(err: BaseException) -> str:
    if isinstance(err, ApplicationError) and err.type == c.REFUND_REFUSED:
        return "refused"
    if isinstance(err, ApplicationError) and err.type == c.NO_REFUND_PROVIDER:
        return "no_provider"
    return "error"


def refund_issued(req: c.RefundRequest, result: c.RefundIssued) -> None:
    if result.duplicate:
        return
    merchant = _merchant(req.merchant_id)
    _add(REFUNDS_ISSUED, merchant_id=merchant, currency=req.currency)
    _add(REFUNDED_AMOUNT, req.amount, merchant_id=merchant, currency=req.currency)


def refund_failed(req: c.RefundRequest, err: BaseException) -> None:
    merchant = _merchant(req.merchant_id)
    _add(REFUND_FAILURES, merchant_id=merchant, currency=req.currency, reason=_refund_reason(err))
    _add(REFUND_FAILED_AMOUNT, req.amount, merchant_id=merchant, currency=req.currency)


def email_sent(n: c.Notification, result: c.NotificationSent) -> None:
    if not result.duplicate:
        _add(EMAILS_SENT, merchant_id=_merchant(n.merchant_id), audience=n.audience)


def email_failed(n: c.Notification, err: BaseException) -> None:
    _add(EMAIL_FAILURES, merchant_id=_merchant(n.merchant_id), audience=n.audience)


def label_created(req: c.LabelRequest, result: c.LabelCreated) -> None:
    if not result.duplicate:
        _add(LABELS_CREATED, merchant_id=_merchant(req.merchant_id))


def label_failed(req: c.LabelRequest, err: BaseException) -> None:
    _add(LABEL_FAILURES, merchant_id=_merchant(req.merchant_id))


def delivery_sent(merchant_id: str | None) -> None:
    """An event reached the merchant's order system (a 2xx). For the outbound delivery activity
    (issue 19): call it where a delivery attempt succeeds, or add it to `METERED` below."""
    _add(DELIVERIES_SENT, merchant_id=_merchant(merchant_id))


def delivery_failed(merchant_id: str | None) -> None:
    """A delivery attempt failed (no answer, or not a 2xx)."""
    _add(DELIVERY_FAILURES, merchant_id=_merchant(merchant_id))


# activity name -> (on success, on failure); each takes the activity's one argument.
METERED: dict[str, tuple[Callable, Callable]] = {
    c.ISSUE_REFUND: (refund_issued, refund_failed),
    c.SEND_NOTIFICATION: (email_sent, email_failed),
    c.CREATE_RETURN_LABEL: (label_created, label_failed),
    c.DELIVER_EVENT: (lambda call, result: delivery_sent(call.event.merchant_id),
                      lambda call, err: delivery_failed(call.event.merchant_id)),
}


def _activity_name(fn: Callable) -> str | None:
    definition = getattr(fn, "__temporal_activity_definition", None)
    return definition.name if definition is not None else None


def with_metrics(activities: list[Callable]) -> list[Callable]:
    """The same activities, those in `METERED` counting their successes and failures."""
    return [_wrap(fn, name) if (name := _activity_name(fn)) in METERED else fn
            for fn in activities]


def _wrap(fn: Callable, name: str) -> Callable:
    succeeded, failed = METERED[name]

    @functools.wraps(fn)
    async def metered(arg):
        try:
            result = await fn(arg)
        except Exception as err:
            failed(arg, err)
            raise
        succeeded(arg, result)
        return result

    del metered.__temporal_activity_definition  # copied from `fn` by wraps; ours follows
    return activity.defn(name=name)(metered)


ALL = tuple(DESCRIPTIONS)

__all__ = ["ALL", "delivery_failed", "delivery_sent", "with_metrics"]

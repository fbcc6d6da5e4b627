"""From the adapters file to the activities' adapters: one transport, refund router and label
service per merchant, built once when the worker starts (see `activities.adapters`)."""

from __future__ import annotations

import ssl

from activities.adapters import (
    AdapterConfigError,
    AdaptersConfig,
    DeliveriesConfig,
    EasyPostLabels as EasyPostConfig,
    ResolvedMerchant,
    SmtpEmail,
    load_adapters,
)
from activities.deliveries import Endpoint
from activities.easypost_labels import EasyPostLabels
from activities.labels import LabelActivities
from activities.ledger import SqliteLedger
from activities.mail import MaildirOutbox, MailTransport, SmtpTransport
from activities.notifications import MerchantMail, NotificationActivities
from activities.payments import PaymentActivities, RefundProvider, RefundRouter
from activities.stripe_refunds import StripeRefunds
from runtime.settings import Settings, SmtpSettings


def load_for(settings: Settings, known_merchants: list[str] | None = None) -> AdaptersConfig:
    """The worker's adapters file (`RETURNS_ADAPTERS_FILE`), or every adapter embedded.
    Raises `AdapterConfigError` naming the file and the field."""
    return load_adapters(settings.adapters_file, secrets_file=settings.secrets_file,
                         known_merchants=known_merchants)


def _transport(settings: Settings, m: ResolvedMerchant) -> MailTransport:
    email = m.email
    if email is None:  # embedded: SMTP from RETURNS_SMTP_* when set, else the Maildir outbox
        if settings.smtp is not None:
            return SmtpTransport(settings.smtp, settings.sent_log_path,
                                 mail_from=settings.mail_from)
        return MaildirOutbox(settings.outbox_dir, mail_from=settings.mail_from)
    if isinstance(email, SmtpEmail):
        smtp = SmtpSettings(
            host=email.host, port=email.port, username=email.username,
            password=m.smtp_password.reveal() if m.smtp_password else None,
            starttls=email.starttls and not email.tls, use_tls=email.tls, sender=email.mail_from)
        tls = ssl.create_default_context(cafile=str(email.ca_file)) if email.ca_file else None
        # One sent-log for every merchant: keys are workflow ids, unique across merchants.
        return SmtpTransport(smtp, settings.sent_log_path, timeout=email.timeout, tls_context=tls)
    return MaildirOutbox(settings.outbox_dir, mail_from=email.mail_from or settings.mail_from)


def notification_activities(settings: Settings, config: AdaptersConfig) -> NotificationActivities:
    import os

    from customer_page.links import CustomerLinks

    default = config.default
    return NotificationActivities(
        _transport(settings, default), staff_locale=default.staff_locale,
        links=CustomerLinks.from_settings(dict(os.environ), settings.secrets_file),
        console_url=settings.console_url,
        merchants={mid: MerchantMail(_transport(settings, m), m.staff_locale)
                   for mid, m in config.merchants.items()})


def _providers(m: ResolvedMerchant, ledger: SqliteLedger) -> dict[str, RefundProvider]:
    providers: dict[str, RefundProvider] = {"ledger": ledger}
    if m.stripe_api_key is not None and m.payments.stripe is not None:
        s = m.payments.stripe
        providers["stripe"] = StripeRefunds(m.stripe_api_key, api_base=s.api_base,
                                            timeout=s.timeout)
    return providers


def payment_activities(settings: Settings, config: AdaptersConfig) -> PaymentActivities:
    ledger = SqliteLedger(settings.ledger_path)  # one ledger file for every merchant
    router = RefundRouter(
        providers={mid: _providers(m, ledger) for mid, m in config.merchants.items()},
        methods_by_merchant={mid: m.payments.methods for mid, m in config.merchants.items()},
        default_providers=_providers(config.default, ledger),
        default_methods=config.default.payments.methods)
    return PaymentActivities(router)


def _carrier(settings: Settings, m: ResolvedMerchant) -> EasyPostLabels | None:
    labels = m.labels
    if not isinstance(labels, EasyPostConfig):
        return None
    return EasyPostLabels(m.easypost_api_key, settings.labels_dir, carrier=labels.carrier,
                          service=labels.service, label_format=labels.label_format,
                          parcel=labels.parcel, api_base=labels.api_base, timeout=labels.timeout)


def label_activities(settings: Settings, config: AdaptersConfig) -> LabelActivities:
    return LabelActivities(
        settings.labels_dir, default_carrier=_carrier(settings, config.default),
        carriers={mid: _carrier(settings, m) for mid, m in config.merchants.items()})


def delivery_endpoints(settings: Settings, config: AdaptersConfig,
                       merchants: list[str]) -> dict[str, Endpoint]:
    """Each merchant's endpoint for the return events (the adapters file's `deliveries`, else
    `RETURNS_DELIVERY_URL`), with the webhook secrets that sign them. A merchant with an endpoint
    but no secret stops the worker (AdapterConfigError naming the variable)."""
    from ingestion.merchant_secrets import MissingSecret, env_name, load_merchant_secrets

    default = DeliveriesConfig(url=settings.delivery_url) if settings.delivery_url else None
    wanted = {m: config.for_merchant(m).deliveries or default for m in merchants}
    wanted = {m: d for m, d in wanted.items() if d is not None}
    if not wanted:
        return {}
    try:
        secrets = load_merchant_secrets(merchants, secrets_file=settings.secrets_file)
    except MissingSecret as err:
        raise AdapterConfigError(f"deliveries: events are signed with the merchant's webhook "
                                 f"secret: {err}") from None
    endpoints = {}
    for merchant, d in sorted(wanted.items()):
        if merchant not in secrets.by_merchant:
            raise AdapterConfigError(f"merchants.{merchant}.deliveries: events are signed with "
                                     f"the merchant's webhook secret, and {env_name(merchant)} "
                                     "is not set")
        endpoints[merchant] = Endpoint(url=d.url, secrets=secrets.by_merchant[merchant],
                                       retry_for=d.retry_for, attention_after=d.attention_after,
                                       timeout=d.timeout)
    return endpoints


def describe(config: AdaptersConfig) -> dict[str, str]:
    """One line per merchant for the worker's start-up log: adapters, never secrets."""
    out = {}
    for m in config.all:
        email = m.email.transport if m.email else "embedded"
        if isinstance(m.email, SmtpEmail):
            email += f" {m.email.host}:{m.email.port}"
        methods = m.payments.methods
        payments = "ledger (all methods)" if methods is None else \
            ", ".join(f"{k}->{v}" for k, v in sorted(methods.items())) or "none"
        labels = m.labels.provider
        if isinstance(m.labels, EasyPostConfig):
            labels += f" {m.labels.carrier}{' ' + m.labels.service if m.labels.service else ''}"
        out[m.merchant_id or "default"] = (f"email={email}; payments={payments}; "
                                           f"labels={labels}; staff_locale={m.staff_locale}")
    return out


def collection_activities(settings: Settings, config: AdaptersConfig):
    """Money the customer owes, collected on Stripe Checkout for each merchant whose
    `[payments.stripe]` says `collect = true` (issue 18 point 2); the others have no collector
    and staff record the customer's payment."""
    import os

    from activities.collection import CollectionActivities
    from activities.stripe_checkout import StripeCheckout
    from customer_page.links import CustomerLinks

    collectors = {}
    for mid, m in config.merchants.items():
        s = m.payments.stripe
        if s is not None and s.collect and m.stripe_api_key is not None:
            collectors[mid] = StripeCheckout(m.stripe_api_key, success_url=s.success_url,
                                             api_base=s.api_base, timeout=s.timeout)
    return CollectionActivities(
        collectors, links=CustomerLinks.from_settings(dict(os.environ), settings.secrets_file))

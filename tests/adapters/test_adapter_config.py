"""The adapters file: validated at worker start, every mistake named by file and field, secrets
resolved from the environment or a secrets file and never printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import wiring
from activities.adapters import KNOWN_METHODS, AdapterConfigError, load_adapters, read_secrets_file
from activities.contracts import NO_REFUND_PROVIDER, RefundRequest
from activities.easypost_labels import EasyPostLabels
from activities.mail import MaildirOutbox, SmtpTransport
from activities.ledger import SqliteLedger
from activities.stripe_refunds import StripeRefunds
from returns.events import Payment
from runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "adapters.example.toml"
MERCHANTS = ["fine-jewelry", "opalook", "pearl-platform"]
EXAMPLE_SECRETS = {
    "OPALOOK_SMTP_PASSWORD": "opalook-smtp-secret-1", "OPALOOK_STRIPE_SECRET_KEY": "sk_test_op_2",
    "PEARL_SMTP_PASSWORD": "pearl-smtp-secret-3", "PEARL_STRIPE_SECRET_KEY": "sk_test_pe_4",
    "FINE_JEWELRY_STRIPE_SECRET_KEY": "sk_test_fj_5",
    "FINE_JEWELRY_EASYPOST_API_KEY": "EZTK_fj_secret_6",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "adapters.toml"
    path.write_text(text)
    return path


def problem(tmp_path: Path, text: str, env: dict | None = None, **kwargs) -> str:
    path = write(tmp_path, text)
    with pytest.raises(AdapterConfigError) as err:
        load_adapters(path, env=env or {}, known_merchants=MERCHANTS, **kwargs)
    message = str(err.value)
    assert message.startswith(str(path)), message
    return message.removeprefix(f"{path}: ")


def test_the_example_configures_all_three_merchants_and_hides_every_secret(tmp_path):
    config = load_adapters(EXAMPLE, env=EXAMPLE_SECRETS, known_merchants=MERCHANTS)
    settings = Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path)})

    assert sorted(config.merchants) == MERCHANTS
    mail = wiring.notification_activities(settings, config)
    assert isinstance(mail.mail_for("opalook").transport, SmtpTransport)
    assert mail.mail_for("opalook").transport.settings.port == 587
    assert mail.mail_for("pearl-platform").transport.settings.use_tls is True
    assert isinstance(mail.mail_for("fine-jewelry").transport, MaildirOutbox)
    assert mail.mail_for("opalook").staff_locale == "fr"
    assert mail.mail_for(None).staff_locale == "en"
    labels = wiring.label_activities(settings, config)
    assert isinstance(labels.carrier_for("fine-jewelry"), EasyPostLabels)
    assert labels.carrier_for("opalook") is None and labels.carrier_for(None) is None
    router = wiring.payment_activities(settings, config)._provider
    assert isinstance(router._providers["opalook"]["stripe"], StripeRefunds)
    # No method of the example moves "money" through the ledger: what Stripe does not refund,
    # staff do (a manual refund task), for listed and unlisted merchants alike.
    for m in config.all:
        for method in KNOWN_METHODS:
            assert m.payments.provider_for(method) in ("stripe", None), (m.merchant_id, method)
    assert config.merchants["pearl-platform"].payments.provider_for("klarna") is None
    assert config.merchants["pearl-platform"].payments.provider_for("afterpay") is None
    assert config.merchants["opalook"].payments.provider_for("klarna") is None
    assert config.merchants["fine-jewelry"].payments.provider_for("klarna") == "stripe"
    assert config.default.payments.provider_for("card") is None

    printed = repr(config) + str(wiring.describe(config)) + repr(mail.mail_for("opalook")
                                                                 .transport.settings)
    for secret in EXAMPLE_SECRETS.values():
        assert secret not in printed


@pytest.mark.parametrize("merchant_id, method", [
    ("pearl-platform", "klarna"), ("pearl-platform", "afterpay"),  # `manual` in the example
    ("opalook", "klarna"), ("opalook", "bank_transfer"),  # left out
    (None, "card"), ("a-merchant-not-in-the-file", "card"),  # the example's [default]
])
async def test_the_example_hands_what_stripe_does_not_refund_to_staff_and_records_no_refund(
        tmp_path, merchant_id, method):
    """A method the example does not refund through Stripe becomes a manual refund task
    (NO_REFUND_PROVIDER): never a ledger entry that tells the customer money moved."""
    config = load_adapters(EXAMPLE, env=EXAMPLE_SECRETS, known_merchants=MERCHANTS)
    settings = Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path)})
    acts = wiring.payment_activities(settings, config)
    req = RefundRequest(idempotency_key="return-R1:refund", return_id="R1", order_id="O-1",
                        currency="USD", amount=5000, reason="accepted items",
                        merchant_id=merchant_id,
                        payments=[Payment(payment_id="pay_1", method=method, amount=5000)])
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(acts.issue_refund, req)
    assert err.value.type == NO_REFUND_PROVIDER and err.value.non_retryable
    assert f"{method!r} (payment pay_1)" in err.value.message
    assert "record the manual refund" in err.value.message
    assert await SqliteLedger(settings.ledger_path).refunds() == []


def test_manual_is_an_explicit_no_provider(tmp_path):
    path = write(tmp_path, "[merchants.opalook.payments.methods]\nklarna = 'manual'\n"
                           "card = 'ledger'\n")
    config = load_adapters(path, env={}, known_merchants=MERCHANTS)
    payments = config.for_merchant("opalook").payments
    assert payments.provider_for("klarna") is None and payments.provider_for("card") == "ledger"
    assert "klarna->manual" in wiring.describe(config)["opalook"]


def test_without_a_file_every_adapter_is_embedded(tmp_path):
    config = load_adapters(None, env={})
    settings = Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path)})
    assert config.merchants == {} and config.default.payments.provider_for("klarna") == "ledger"
    assert isinstance(wiring.notification_activities(settings, config).transport, MaildirOutbox)
    assert wiring.label_activities(settings, config).carrier_for("opalook") is None


@pytest.mark.parametrize("text, expected", [
    ("[merchants.opalook.email]\ntransport = 'smtp'\nhost = 'h'\nport = 70000\nmail_from = 'a@b'\n",
     "merchants.opalook.email.port: Input should be less than or equal to 65535"),
    ("[merchants.opalook.email]\ntransport = 'sendmail'\n",
     "merchants.opalook.email: Input tag 'sendmail' found using 'transport' does not match"),
    ("[merchants.opalook.email]\ntransport = 'smtp'\nhost = 'h'\nport = 465\ntls = true\n"
     "mail_from = 'a@b'\n",
     "merchants.opalook.email.starttls: cannot be true with tls = true"),
    ("[merchants.opalook.email]\ntransport = 'smtp'\nhost = 'h'\nmail_from = 'a@b'\n"
     "password_env = 'X'\n",
     "merchants.opalook.email.username: required when password_env is set"),
    ("[merchants.opalook.email]\ntransport = 'smtp'\nhost = 'h'\nmail_from = 'a@b'\n"
     "password = 'hunter2'\n",
     "merchants.opalook.email.password: Extra inputs are not permitted"),
    ("[merchants.opalook.payments.methods]\ncard = 'stripe'\n",
     "merchants.opalook.payments.methods.card: 'stripe' needs a [payments.stripe] table"),
    ("[merchants.opalook.payments.methods]\ncard = 'paypal'\n",
     "merchants.opalook.payments.methods.card: Input should be 'stripe', 'ledger' or 'manual'"),
    ("[merchants.fine-jewelry.labels]\nprovider = 'easypost'\napi_key_env = 'K'\n",
     "merchants.fine-jewelry.labels.carrier: Field required"),
    ("[merchants.opalook]\nstaff_locale = 'french'\n",
     "merchants.opalook.staff_locale: String should match pattern"),
    ("[merchants.opaloook]\nstaff_locale = 'fr'\n",
     "merchants.opaloook: no policy file for this merchant (known merchants: fine-jewelry, "
     "opalook, pearl-platform)"),
    ("[merchants.opalook\n", "not valid TOML"),
], ids=["port", "transport", "tls+starttls", "password_env-without-username", "password-inline",
        "stripe-unconfigured", "unknown-provider", "carrier-missing", "locale", "unknown-merchant",
        "toml"])
def test_a_mistake_names_the_file_and_the_field(tmp_path, text, expected):
    assert expected in problem(tmp_path, text)


def test_a_missing_secret_names_the_field_and_the_variable_not_a_value(tmp_path):
    text = ("[merchants.opalook.payments.stripe]\napi_key_env = 'OPALOOK_STRIPE'\n"
            "[merchants.opalook.payments.methods]\ncard = 'stripe'\n")
    message = problem(tmp_path, text)
    assert message == ("merchants.opalook.payments.stripe.api_key_env: the variable "
                       "OPALOOK_STRIPE is not set in the environment (and RETURNS_SECRETS_FILE "
                       "is not set)")


def test_secrets_come_from_the_environment_first_then_the_secrets_file(tmp_path):
    secrets = tmp_path / "secrets.env"
    secrets.write_text("# comment\n\nexport FJ_EASYPOST=\"EZTK_from_file\"\nOTHER=1\n")
    path = write(tmp_path, "[merchants.fine-jewelry.labels]\nprovider = 'easypost'\n"
                           "api_key_env = 'FJ_EASYPOST'\ncarrier = 'USPS'\n")
    from_file = load_adapters(path, env={}, secrets_file=secrets)
    assert from_file.merchants["fine-jewelry"].easypost_api_key.reveal() == "EZTK_from_file"
    assert from_file.merchants["fine-jewelry"].easypost_api_key.source == "secrets file FJ_EASYPOST"
    from_env = load_adapters(path, env={"FJ_EASYPOST": "EZTK_env"}, secrets_file=secrets)
    assert from_env.merchants["fine-jewelry"].easypost_api_key.reveal() == "EZTK_env"

    secrets.write_text("FJ_EASYPOST EZTK_oops_no_equals\n")
    with pytest.raises(AdapterConfigError) as err:
        read_secrets_file(secrets)
    assert str(err.value) == f"{secrets}: line 1: expected NAME=value"


def test_the_default_section_applies_to_merchants_that_do_not_say(tmp_path):
    path = write(tmp_path, "[default]\nstaff_locale = 'zh'\n"
                           "[default.payments.methods]\ncard = 'ledger'\n"
                           "[merchants.opalook]\nstaff_locale = 'fr'\n")
    config = load_adapters(path, env={}, known_merchants=MERCHANTS)
    assert config.for_merchant("opalook").staff_locale == "fr"
    assert config.for_merchant("opalook").payments.provider_for("card") == "ledger"
    assert config.for_merchant("opalook").payments.provider_for("klarna") is None
    assert config.for_merchant("pearl-platform").staff_locale == "zh"
    assert config.for_merchant(None).staff_locale == "zh"


def test_the_worker_stops_with_the_file_and_field_before_connecting(tmp_path):
    path = write(tmp_path, "[merchants.opalook.email]\ntransport = 'smtp'\nhost = 'h'\n"
                           "port = 0\nmail_from = 'a@b'\n")
    env = {**os.environ, "RETURNS_ADAPTERS_FILE": str(path),
           "RETURNS_DATA_DIR": str(tmp_path / "data"),
           "TEMPORAL_ADDRESS": "127.0.0.1:9"}  # nothing listens: it must stop before connecting
    done = subprocess.run([sys.executable, "worker.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"worker: {path}: merchants.opalook.email.port: Input should be greater than or " \
           "equal to 1" in done.stderr

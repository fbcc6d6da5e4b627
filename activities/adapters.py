"""Which service each merchant's emails, refunds and return labels go through.

One TOML file (`RETURNS_ADAPTERS_FILE`, e.g. `config/adapters.toml`; example:
`config/adapters.example.toml`) chooses, per `merchant_id`:

- `email`: `maildir` (the embedded outbox) or `smtp` (host, port, STARTTLS/TLS, login);
- `payments`: which provider refunds each payment method (`stripe`, or `ledger`, the embedded
  SQLite ledger, which moves no money: development only); a method mapped to `manual`, or left
  out, has no provider and is refunded by staff (`NoRefundProvider`);
- `labels`: `pdf` (the embedded A4 label) or `easypost` (a carrier's return label);
- `staff_locale`: the language of the staff emails (customers get their own locale);
- `deliveries`: where the return's events go back to the merchant's order system (`url`), how long
  one event is retried (`retry_for`, days not minutes) and after how long failing it is raised to
  staff (`attention_after`); left out: no events are sent (docs/events.md, "Events out"). Signed
  with the merchant's webhook secret (`RETURNS_WEBHOOK_SECRETS_<MERCHANT>`).

`[default]` applies to merchants not listed and to requests that name no merchant. Without a file
everything is embedded (Maildir outbox, or SMTP from `RETURNS_SMTP_*`; SQLite ledger; PDF label).

The file is validated with pydantic when the worker starts: a mistake stops the worker with
`AdapterConfigError`, whose message names the file and the dotted field. Secrets are never in the
file, only the names of the variables holding them (`password_env`, `api_key_env`), resolved from
the environment, then from the secrets file (`RETURNS_SECRETS_FILE`, `NAME=value` lines), at start.
A resolved secret is a `Secret`, whose repr and str are masked, so it cannot reach a log line.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

MerchantId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
Method = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")]
EmailAddress = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$")]

# The payment methods merchants take today (returns.events.Payment.method is open-ended).
KNOWN_METHODS = ("card", "apple_pay", "google_pay", "shop_pay", "klarna", "afterpay")


class AdapterConfigError(ValueError):
    """The adapters file cannot be used; the message names the file, the field and the problem."""


class Secret:
    """A secret value that never prints: `str()` and `repr()` are masked; `.reveal()` gives it."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source  # "env FOO" or "secrets file FOO": safe to log

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.source}, ****)"

    __str__ = __repr__


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- email -----------------------------------------------------------------------------------------
class MaildirEmail(_Model):
    transport: Literal["maildir"]
    mail_from: EmailAddress | None = None  # default: RETURNS_MAIL_FROM


class SmtpEmail(_Model):
    transport: Literal["smtp"]
    host: Annotated[str, StringConstraints(min_length=1, max_length=253)]
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    starttls: bool = True  # upgrade a plain connection; required when on (never falls back)
    tls: bool = False  # implicit TLS from the first byte (port 465)
    username: str | None = None
    password_env: EnvName | None = None  # the variable holding the password, never the password
    mail_from: EmailAddress  # envelope sender and From: address
    timeout: Annotated[float, Field(gt=0, le=300)] = 30
    ca_file: Path | None = None  # a private CA's bundle for the relay's certificate; None: system

    @model_validator(mode="after")
    def _consistent(self) -> "SmtpEmail":
        if self.ca_file is not None and not self.ca_file.is_file():
            raise ValueError(f"ca_file: {self.ca_file} is not a readable file")
        if self.tls and self.starttls:
            raise ValueError("starttls: cannot be true with tls = true (implicit TLS is already "
                             "encrypted); set starttls = false")
        if self.password_env and not self.username:
            raise ValueError("username: required when password_env is set")
        return self


EmailConfig = Annotated[Union[MaildirEmail, SmtpEmail], Field(discriminator="transport")]


# --- payments --------------------------------------------------------------------------------------
class StripeConfig(_Model):
    api_key_env: EnvName
    api_base: HttpUrl | None = None  # only to reach a proxy or a test server; default Stripe's
    timeout: Annotated[float, Field(gt=0, le=300)] = 30
    # Money the customer owes before a shipment (004 §4.4, §4.5, §3.7) collected on a
    # Stripe-hosted Checkout page (activities/stripe_checkout.py); false: staff record it.
    collect: bool = False
    # Where Stripe's page sends the customer after paying when the worker cannot sign a link to
    # their return page (RETURNS_CUSTOMER_PAGE_KEYS unset).
    success_url: HttpUrl | None = None


# `manual`: staff refund it by hand (no provider: NoRefundProvider). `ledger` records a refund in
# the embedded SQLite ledger and moves no money: for development and tests, never for a method a
# customer must really be paid back on.
MANUAL = "manual"


class PaymentsConfig(_Model):
    """`methods` maps each payment method to the provider that refunds it. Without `methods`,
    every method goes to the ledger (the embedded default). A method left out of `methods`, or
    mapped to `manual`, has no provider: staff refund it by hand."""

    methods: dict[Method, Literal["stripe", "ledger", "manual"]] | None = None
    stripe: StripeConfig | None = None

    @model_validator(mode="after")
    def _stripe_configured(self) -> "PaymentsConfig":
        for method, provider in (self.methods or {}).items():
            if provider == "stripe" and self.stripe is None:
                raise ValueError(f"methods.{method}: 'stripe' needs a [payments.stripe] table "
                                 "with api_key_env")
        return self

    def provider_for(self, method: str) -> str | None:
        """The provider refunding `method`; None: staff refund it by hand."""
        if self.methods is None:
            return "ledger"
        provider = self.methods.get(method)
        return None if provider == MANUAL else provider


# --- labels ----------------------------------------------------------------------------------------
class PdfLabels(_Model):
    provider: Literal["pdf"]


class Parcel(_Model):
    """The parcel the carrier is quoted for (EasyPost's units: ounces and inches)."""

    weight_oz: Annotated[float, Field(gt=0, le=2400)]
    length_in: Annotated[float, Field(gt=0, le=200)] | None = None
    width_in: Annotated[float, Field(gt=0, le=200)] | None = None
    height_in: Annotated[float, Field(gt=0, le=200)] | None = None


class EasyPostLabels(_Model):
    provider: Literal["easypost"]
    api_key_env: EnvName
    carrier: Annotated[str, StringConstraints(min_length=1, max_length=64)]  # e.g. "USPS", "UPS"
    service: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    label_format: Literal["PDF", "PNG"] = "PDF"
    parcel: Parcel = Parcel(weight_oz=16)
    api_base: HttpUrl | None = None  # only to reach a proxy or a test server; default EasyPost's
    timeout: Annotated[int, Field(gt=0, le=300)] = 60


LabelsConfig = Annotated[Union[PdfLabels, EasyPostLabels], Field(discriminator="provider")]


class DeliveriesConfig(_Model):
    """The merchant's endpoint for the return's events. Durations: seconds, or ISO 8601 ("P3D")."""

    url: HttpUrl
    retry_for: Annotated[timedelta, Field(ge=timedelta(minutes=1), le=timedelta(days=30))] = \
        timedelta(days=3)
    attention_after: Annotated[timedelta, Field(ge=timedelta(seconds=1),
                                                le=timedelta(days=30))] = timedelta(hours=1)
    timeout: float = Field(10.0, gt=0, le=120)  # one attempt's limit, in seconds


# --- the file ----------------------------------------------------------------------------------------
class MerchantAdapters(_Model):
    email: EmailConfig | None = None  # None: the [default] email
    payments: PaymentsConfig | None = None
    labels: LabelsConfig | None = None
    staff_locale: Locale | None = None
    deliveries: DeliveriesConfig | None = None


class AdaptersFile(_Model):
    default: MerchantAdapters = MerchantAdapters()
    merchants: dict[MerchantId, MerchantAdapters] = {}


@dataclass(frozen=True)
class ResolvedMerchant:
    """One merchant's adapters with the defaults filled in and the secrets resolved."""

    merchant_id: str | None  # None: the default
    email: MaildirEmail | SmtpEmail | None  # None: the embedded default (env SMTP or Maildir)
    payments: PaymentsConfig
    labels: PdfLabels | EasyPostLabels
    staff_locale: str
    deliveries: DeliveriesConfig | None = None  # None: no events are sent
    smtp_password: Secret | None = None
    stripe_api_key: Secret | None = None
    easypost_api_key: Secret | None = None


@dataclass(frozen=True)
class AdaptersConfig:
    source: Path | None  # None: no file, every adapter embedded
    default: ResolvedMerchant
    merchants: dict[str, ResolvedMerchant]

    def for_merchant(self, merchant_id: str | None) -> ResolvedMerchant:
        if merchant_id is None:
            return self.default
        return self.merchants.get(merchant_id, self.default)

    @property
    def all(self) -> list[ResolvedMerchant]:
        return [self.default, *self.merchants.values()]


_FIELD_IN_MESSAGE = re.compile(r"^([A-Za-z_][\w.]*): (.*)$", re.DOTALL)
_TAGGED = {"email": {"maildir", "smtp"}, "labels": {"pdf", "easypost"}}


def _describe(exc: ValidationError, path: Path) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        # Tagged unions add the tag to the location ("email.smtp.port"): drop it, it is not a key.
        raw = [str(p) for p in error["loc"]]
        loc = [p for i, p in enumerate(raw)
               if not (i and raw[i - 1] in _TAGGED and p in _TAGGED[raw[i - 1]])]
        message = error["msg"].removeprefix("Value error, ")
        found = _FIELD_IN_MESSAGE.match(message)
        if found:
            loc.append(found.group(1))
            message = found.group(2)
        problems.append(f"{path}: {'.'.join(loc) or '(file)'}: {message}")
    return "\n".join(problems)


def read_secrets_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines (blank lines and `#` comments ignored); values are not unquoted beyond
    one pair of surrounding quotes. Raises AdapterConfigError naming the file and the line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AdapterConfigError(f"{path}: cannot read the secrets file: {exc.strerror}") from None
    secrets: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip().removeprefix("export ").strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            # Never quote the line: it may hold a secret.
            raise AdapterConfigError(f"{path}: line {number}: expected NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        secrets[name] = value
    return secrets


class _SecretSource:
    def __init__(self, env: dict[str, str], secrets_file: Path | None) -> None:
        self.env = env
        self.secrets_file = secrets_file
        self._file: dict[str, str] | None = None

    def get(self, name: str, field: str, source: Path | None) -> Secret:
        if self.env.get(name):
            return Secret(self.env[name], f"env {name}")
        if self.secrets_file is not None:
            if self._file is None:
                self._file = read_secrets_file(self.secrets_file)
            if self._file.get(name):
                return Secret(self._file[name], f"secrets file {name}")
        where = f" nor in the secrets file {self.secrets_file}" if self.secrets_file else \
            " (and RETURNS_SECRETS_FILE is not set)"
        raise AdapterConfigError(f"{source or '(adapters)'}: {field}: the variable {name} is not "
                                 f"set in the environment{where}")


def load_adapters(path: Path | None, *, env: dict[str, str] | None = None,
                  secrets_file: Path | None = None,
                  known_merchants: list[str] | None = None) -> AdaptersConfig:
    """Read, validate and resolve the adapters file; `path=None` means every adapter embedded.

    `known_merchants` (the policy registry's ids): a merchant in the file without a policy is a
    typo or a leftover, and is refused.
    """
    env = dict(os.environ if env is None else env)
    data: dict = {}
    if path is not None:
        path = Path(path)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise AdapterConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise AdapterConfigError(f"{path}: cannot read the adapters file: {exc.strerror}") \
                from None
    try:
        parsed = AdaptersFile.model_validate(data)
    except ValidationError as exc:
        raise AdapterConfigError(_describe(exc, path or Path("(adapters)"))) from None

    if known_merchants is not None:
        unknown = sorted(set(parsed.merchants) - set(known_merchants))
        if unknown:
            raise AdapterConfigError(
                f"{path}: merchants.{unknown[0]}: no policy file for this merchant "
                f"(known merchants: {', '.join(sorted(known_merchants)) or 'none'})")

    secrets = _SecretSource(env, secrets_file)
    d = parsed.default
    default = _resolve(None, d, None, secrets, path)
    merchants = {mid: _resolve(mid, m, d, secrets, path) for mid, m in parsed.merchants.items()}
    return AdaptersConfig(source=path, default=default, merchants=merchants)


def _resolve(merchant_id: str | None, m: MerchantAdapters, default: MerchantAdapters | None,
             secrets: _SecretSource, path: Path | None) -> ResolvedMerchant:
    prefix = f"merchants.{merchant_id}" if merchant_id else "default"

    def pick(name: str):
        own = getattr(m, name)
        if own is not None or default is None:
            return own, prefix
        return getattr(default, name), "default"

    email, email_at = pick("email")
    payments, payments_at = pick("payments")
    labels, labels_at = pick("labels")
    staff_locale, _ = pick("staff_locale")
    deliveries, _ = pick("deliveries")
    payments = payments or PaymentsConfig()
    labels = labels or PdfLabels(provider="pdf")

    smtp_password = stripe_key = easypost_key = None
    if isinstance(email, SmtpEmail) and email.password_env:
        smtp_password = secrets.get(email.password_env, f"{email_at}.email.password_env", path)
    if payments.stripe is not None and ("stripe" in (payments.methods or {}).values()
                                        or payments.stripe.collect):
        stripe_key = secrets.get(payments.stripe.api_key_env,
                                 f"{payments_at}.payments.stripe.api_key_env", path)
    if isinstance(labels, EasyPostLabels):
        easypost_key = secrets.get(labels.api_key_env, f"{labels_at}.labels.api_key_env", path)
    return ResolvedMerchant(merchant_id=merchant_id, email=email, payments=payments,
                            labels=labels, staff_locale=staff_locale or "en",
                            deliveries=deliveries,
                            smtp_password=smtp_password, stripe_api_key=stripe_key,
                            easypost_api_key=easypost_key)


__all__ = [
    "AdapterConfigError", "AdaptersConfig", "AdaptersFile", "DeliveriesConfig", "EasyPostLabels", "KNOWN_METHODS",
    "MANUAL", "MaildirEmail", "MerchantAdapters", "Parcel", "PaymentsConfig", "PdfLabels",
    "ResolvedMerchant", "Secret", "SmtpEmail", "StripeConfig", "load_adapters",
    "read_secrets_file",
]

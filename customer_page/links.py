"""Signed links to one return's customer page.

A link is `<base>/r/<merchant_id>/<return_id>/<expiry>.<signature>?lang=<locale>`: the signature is
HMAC-SHA256 over the merchant id, the return id and the expiry (a Unix time), so the link opens that
return alone, until it expires. Nothing personal is in it (ids and a date only).

Keys come from RETURNS_CUSTOMER_PAGE_KEYS (comma-separated, in the environment or the secrets file
like the other secrets; `make run` generates one into .data/customer-page-keys). The first key signs;
every key listed verifies, so a key is rotated by putting the new one first and dropping the old one
once the links it signed have expired. Links are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

KEYS_ENV = "RETURNS_CUSTOMER_PAGE_KEYS"
BASE_URL_ENV = "RETURNS_CUSTOMER_PAGE_URL"
LINK_LIFETIME = 120 * 86400  # about four months: a return's life and some weeks after it ends
MIN_KEY_LENGTH = 32


class LinkProblem(StrEnum):
    forged = "forged"  # no key signed this: 403
    expired = "expired"  # signed by us, too old: 410


def _sign(key: str, merchant_id: str, return_id: str, expires: int) -> str:
    message = f"customer-page\n{merchant_id}\n{return_id}\n{expires}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def split_keys(value: str) -> list[str]:
    return [k.strip() for k in value.split(",") if k.strip()]


@dataclass(frozen=True)
class CustomerLinks:
    keys: tuple[str, ...]
    base_url: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError(f"{KEYS_ENV}: at least one key is needed")
        short = [n for n, k in enumerate(self.keys, 1) if len(k) < MIN_KEY_LENGTH]
        if short:
            raise ValueError(f"{KEYS_ENV}: key {short[0]} is shorter than {MIN_KEY_LENGTH} characters")

    @classmethod
    def from_env(cls, env: dict[str, str], default_base: str = "http://127.0.0.1:8082"
                 ) -> "CustomerLinks | None":
        keys = split_keys(env.get(KEYS_ENV, ""))
        if not keys:
            return None
        return cls(tuple(keys), (env.get(BASE_URL_ENV) or default_base).rstrip("/"))

    @classmethod
    def from_settings(cls, env: dict[str, str], secrets_file=None) -> "CustomerLinks | None":
        """From the environment, else from the secrets file (NAME=value lines, as the adapters'
        secrets); None when neither sets RETURNS_CUSTOMER_PAGE_KEYS."""
        if not split_keys(env.get(KEYS_ENV, "")) and secrets_file is not None:
            from activities.adapters import read_secrets_file

            env = {**read_secrets_file(secrets_file), **env}
        return cls.from_env(env)

    def token(self, merchant_id: str, return_id: str, expires: int | None = None) -> str:
        expires = int(expires if expires is not None else time.time() + LINK_LIFETIME)
        return f"{expires}.{_sign(self.keys[0], merchant_id, return_id, expires)}"

    def path(self, merchant_id: str, return_id: str, token: str) -> str:
        return f"/r/{quote(merchant_id, safe='')}/{quote(return_id, safe='')}/{token}"

    def url(self, merchant_id: str, return_id: str, locale: str = "en",
            expires: int | None = None) -> str:
        language = locale.split("-")[0].split("_")[0].lower()
        return (self.base_url + self.path(merchant_id, return_id,
                                          self.token(merchant_id, return_id, expires))
                + f"?lang={quote(language, safe='')}")

    def check(self, merchant_id: str, return_id: str, token: str,
              now: float | None = None) -> LinkProblem | None:
        """None when `token` was signed by one of our keys for this very return and is current."""
        expires_text, _, signature = token.partition(".")
        if not expires_text.isdigit() or not signature or len(expires_text) > 12:
            return LinkProblem.forged
        expires = int(expires_text)
        if not any(hmac.compare_digest(signature, _sign(k, merchant_id, return_id, expires))
                   for k in self.keys):
            return LinkProblem.forged
        if expires < (time.time() if now is None else now):
            return LinkProblem.expired
        return None

    def csrf(self, token: str, nonce: str) -> str:
        """The form token of one page view: bound to the link and to the browser's cookie nonce."""
        digest = hmac.new(self.keys[0].encode(), f"csrf\n{token}\n{nonce}".encode(),
                          hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def csrf_ok(self, token: str, nonce: str, value: str) -> bool:
        return bool(nonce) and bool(value) and any(
            hmac.compare_digest(value, base64.urlsafe_b64encode(hmac.new(
                k.encode(), f"csrf\n{token}\n{nonce}".encode(), hashlib.sha256).digest()
            ).rstrip(b"=").decode()) for k in self.keys)

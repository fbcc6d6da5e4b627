"""The secrets of the example adapters file (SMTP passwords, Stripe and EasyPost keys), given
distinctive values half through the environment and half through RETURNS_SECRETS_FILE, never
appear in anything a worker prints: the start-up `adapters` lines, the log lines of failing
refunds, emails and labels, error messages or tracebacks, at INFO and at DEBUG. The peers are
real local servers (stripe-stateful-mock, aiosmtpd with a login, an EasyPost-like HTTP server)
that each refuse the secret, so every secret is resolved, sent and refused."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import sys
from pathlib import Path

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.adapters.support import RecordingHandler, free_port
from tests.loopback import serving

# The login is refused over plain text on 127.0.0.1 on purpose (no certificate to make).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "adapters.example.toml"
FROM_ENV = {
    "OPALOOK_STRIPE_SECRET_KEY": "sk_live_OpalookStripeS3cret0p4242",
    "PEARL_STRIPE_SECRET_KEY": "sk_live_PearlStripeS3cretPe5151",
}
FROM_FILE = {
    "OPALOOK_SMTP_PASSWORD": "Opalook-SMTP-S3cret-91f2c",
    "PEARL_SMTP_PASSWORD": "Pearl-SMTP-S3cret-77abd",
    "FINE_JEWELRY_STRIPE_SECRET_KEY": "sk_live_FineJewelryStripeS3cret6161",
    "FINE_JEWELRY_EASYPOST_API_KEY": "EZAKFineJewelryEasyPostS3cret7171",
}
SECRETS = {**FROM_ENV, **FROM_FILE}


def fragments(secret: str, width: int = 10) -> list[str]:
    """Every `width` characters of the secret (a masked `sk_live_****…` or a truncated value
    still shows part of it) and its base64 (SMTP AUTH sends it so)."""
    return [secret[i:i + width] for i in range(len(secret) - width + 1)] + [
        base64.b64encode(secret.encode()).decode()]


@pytest.fixture
def smtp_login_refused():
    """An SMTP server that asks for a login and refuses every one (plain text, local only)."""
    logins: list[bytes] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data.password)
        return AuthResult(success=False, handled=False)

    controller = Controller(RecordingHandler(), hostname="127.0.0.1", port=free_port(),
                            authenticator=authenticator, auth_required=True,
                            auth_require_tls=False)
    controller.start()
    try:
        yield controller.port, logins
    finally:
        controller.stop()


@pytest.fixture
async def easypost_refusing():
    """EasyPost's API v2 answering 401 as documented; keeps the keys it was sent."""
    keys: list[str] = []

    async def refuse(request):
        keys.append(request.headers.get("Authorization", ""))
        return web.json_response({"error": {"code": "APIKEY.INACTIVE",
                                            "message": "This api key is no longer active.",
                                            "errors": []}}, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse)
    async with serving(app) as url:
        yield f"{url}/v2", keys


def local_example(stripe_url: str, smtp_port: int, easypost_url: str) -> str:
    """The example file, its SMTP relay, Stripe and EasyPost pointed at the local peers."""
    text = EXAMPLE.read_text()
    text = text.replace('host = "smtp.opalook.example"\nport = 587\nstarttls = true',
                        f'host = "127.0.0.1"\nport = {smtp_port}\nstarttls = false\ntimeout = 10')
    text = re.sub(r'(api_key_env = "\w+_STRIPE_SECRET_KEY".*)\n', rf'\1\napi_base = "{stripe_url}"\n',
                  text)
    text = text.replace('api_key_env = "FINE_JEWELRY_EASYPOST_API_KEY"',
                        f'api_key_env = "FINE_JEWELRY_EASYPOST_API_KEY"\napi_base = "{easypost_url}"\n'
                        'timeout = 10')
    assert text.count(stripe_url) == 3 and f"port = {smtp_port}" in text and easypost_url in text
    return text


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_no_secret_of_the_example_reaches_the_logs(tmp_path, stripe_mock, smtp_login_refused,
                                                        easypost_refusing, level):
    smtp_port, logins = smtp_login_refused
    easypost_url, easypost_keys = easypost_refusing
    adapters = tmp_path / "adapters.toml"
    adapters.write_text(local_example(stripe_mock.url, smtp_port, easypost_url))
    secrets_file = tmp_path / "returns.env"
    secrets_file.write_text("".join(f"{k}='{v}'\n" for k, v in FROM_FILE.items()))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RETURNS_", "TEMPORAL_")) and k not in SECRETS}
    env.update(FROM_ENV, RETURNS_DATA_DIR=str(tmp_path / "data"),
               RETURNS_ADAPTERS_FILE=str(adapters), RETURNS_SECRETS_FILE=str(secrets_file),
               RETURNS_LOG_LEVEL=level, PYTHONUNBUFFERED="1")

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.adapters.secrets_probe", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    printed = out.decode() + err.decode()
    assert process.returncode == 0, printed
    assert "probe: done" in printed, printed

    # Every adapter was really used with its secret, and refused it.
    assert printed.count('"event": "adapters"') == 4, printed  # default + three merchants
    assert "probe: stripe refuses the key: " in printed and "refused the API key" in printed
    assert "probe: refunded by hand: ApplicationError: NoRefundProvider: payments[0].method: 'klarna'" in printed
    assert "probe: smtp refuses the login: " in printed
    assert "probe: easypost refuses the key: " in printed
    assert FROM_FILE["OPALOOK_SMTP_PASSWORD"].encode() in logins
    assert f"Bearer {FROM_FILE['FINE_JEWELRY_EASYPOST_API_KEY']}" in easypost_keys

    for name, secret in SECRETS.items():
        for fragment in fragments(secret):
            assert fragment not in printed, f"{name} ({fragment!r}) was printed:\n{printed}"
